package lang

import (
	"strings"
	"sync"
)

// synonymTable says which words a customer may use for which product words. A line is either
//
//	a, b, c            a, b and c name the same thing (each finds the others)
//	a, b > x, y        a and b name the same thing, and also mean x or y (a kind of it):
//	                   "painkillers" finds ibuprofen, but "ibuprofen" does not find every painkiller
//
// Terms may have several words. This is what lexical search needs beyond spelling: the words of
// two ways of saying one thing; the concept lexicon (concepts.go) holds looser relations.
const synonymTable = `
fries, french fries, oven chips, chips, frites
crisps, potato chips
scourer, scourers, scouring pad, scrub sponge, scrub sponges, scrubber
sponge, sponges, scrub sponge
cleanser, face wash, facial wash, facial cleanser, face cleanser
moisturiser, moisturizer, moisturising cream, moisturizing cream, face cream, moisturising lotion
body lotion, body cream, moisturising lotion
sunscreen, sun screen, suncream, sun cream, sunblock, sun block, sun lotion, spf, factor, sun protection
after sun, aftersun, after sun lotion
painkiller, painkillers, pain killer, pain killers, pain relief, pain reliever, analgesic > ibuprofen, paracetamol, aspirin, acetaminophen, naproxen, codeine
paracetamol, acetaminophen, tylenol, panadol
ibuprofen, advil, nurofen, motrin
electrolytes, electrolyte, rehydration, dioralyte, rehydration salts, oral rehydration
antihistamine, antihistamines, hay fever tablets, allergy tablets > cetirizine, loratadine
cough medicine, cough syrup, cough mixture, cough linctus
throat sweets, throat lozenges, lozenges, cough drops, cough sweets
plaster, plasters, band aid, band aids, bandaid, bandaids, adhesive bandage, adhesive bandages
antacid, antacids, indigestion tablets, heartburn tablets, rennie, gaviscon
heartburn, indigestion, acid reflux, reflux > antacid, antacids, gaviscon, rennie
constipation, constipated > laxative, laxatives
diarrhoea, diarrhea, upset stomach > anti diarrhoea, loperamide, imodium, rehydration
hay fever, hayfever, allergy, allergies > antihistamine, antihistamines, cetirizine, loratadine, allergy tablets
headache, headaches, migraine, toothache, backache, fever > painkiller, painkillers, ibuprofen, paracetamol, aspirin, pain relief
blocked nose, stuffy nose, runny nose, congestion, sinus > decongestant, nasal spray, nasal decongestant, saline spray
sore throat > throat lozenges, lozenges, throat spray, throat sweets
cough, coughing > cough syrup, cough medicine, cough mixture, cough drops
sunburn, sunburnt > after sun, aloe vera
cold sore, cold sores > cold sore cream
laxative, laxatives, constipation relief
diarrhoea tablets, diarrhea tablets, anti diarrhoea, loperamide, imodium
nappy, nappies, diaper, diapers
dummy, dummies, pacifier, pacifiers, soother, soothers
baby wipes, wet wipes, wipes
toothpaste, tooth paste
toothbrush, tooth brush
mouthwash, mouth wash, mouth rinse
shampoo, hair wash
conditioner, hair conditioner
deodorant, deo, antiperspirant, anti perspirant
razor, razors, shaver, shavers
shaving cream, shaving foam, shaving gel
tissues, tissue, kleenex, facial tissues
toilet paper, toilet roll, toilet rolls, loo roll, loo rolls, bathroom tissue
kitchen roll, kitchen towel, paper towel, paper towels
bin bags, bin bag, bin liners, trash bags, garbage bags, rubbish bags, refuse sacks
washing up liquid, dish soap, dishwashing liquid, dish liquid, washing-up liquid
dishwasher tablets, dishwasher tabs, dishwasher pods, dishwasher capsules
laundry detergent, washing powder, washing liquid, laundry liquid, laundry powder, detergent
laundry pods, laundry capsules, washing capsules, washing pods
fabric softener, softener, fabric conditioner
bleach, chlorine bleach
descaler, limescale remover, kettle descaler, anti limescale
cloth, cloths, microfibre cloth, microfiber cloth, duster
kitchen foil, foil, aluminium foil, aluminum foil, tin foil
cling film, clingfilm, plastic wrap, food wrap, saran wrap
baking paper, parchment paper, greaseproof paper
light bulb, light bulbs, lightbulb, lightbulbs, bulb, bulbs
torch, torches, flashlight, flashlights
extension lead, extension leads, extension cord, extension cords, power strip, extension cable
plug adapter, travel adapter, adaptor, adapter
battery, batteries, cells
triple a, aaa, triple a batteries, aaa batteries
double a, aa, double a batteries, aa batteries
charger, chargers, charging plug, plug charger, wall charger, power adapter
phone cable, charging cable, charger cable, usb cable, lead
power bank, powerbank, portable charger, battery pack
headphones, headphone, earphones, earbuds, ear buds, headset
speaker, speakers, loudspeaker
tv, television, telly
aquarium, fish tank, aquariums, fish tanks
remote, remote control
memory card, sd card, micro sd, microsd card
usb stick, memory stick, flash drive, thumb drive, pen drive, usb drive
stud finder, stud detector, cable detector, wire detector, wall scanner, pipe detector
spirit level, bubble level, level
laser level, line laser, cross line laser, laser line, laser line level, self levelling laser
tape measure, measuring tape, tape rule, measure tape
ruler, rule, straight edge
caliper, calipers, callipers, vernier caliper, digital caliper
drill, drills, power drill, cordless drill, drill driver
power tool, power tools, electric tool, electric tools, cordless tools, cordless tool, electrical tools
screwdriver, screwdrivers, screw driver
spanner, spanners, wrench, wrenches
allen key, allen keys, hex key, hex keys
pliers, plier
heat gun, hot air gun, heatgun
glue gun, hot glue gun
superglue, super glue, instant glue
duct tape, gaffer tape, gaffa tape, duck tape
masking tape, painters tape, decorators tape
sandpaper, sand paper, abrasive paper, glasspaper
paint brush, paint brushes, paintbrush, paintbrushes, brush, brushes
paint roller, roller
wallpaper paste, wallpaper adhesive
filler, wall filler, polyfilla, spackle
sealant, silicone, caulk, silicone sealant
wall plugs, rawlplugs, rawl plugs, anchors, wall anchors
screws, screw
nails, nail
hook, hooks, picture hook, picture hooks
shelf bracket, shelf brackets, bracket, brackets
padlock, padlocks, lock
flexible hose, flexi hose, flex hose, flexible tap connector, tap connector, flexible connector
ptfe tape, plumbers tape, thread seal tape, teflon tape
plunger, sink plunger, toilet plunger
drain unblocker, drain cleaner, unblocker
hose, hosepipe, hose pipe, garden hose
watering can, watering cans
secateurs, pruners, pruning shears, garden shears
lawnmower, lawn mower, mower
strimmer, string trimmer, weed whacker, grass trimmer
wheelbarrow, wheel barrow
compost, potting soil, potting mix
fertiliser, fertilizer, plant food, plant feed
weed killer, weedkiller, herbicide
work gloves, gardening gloves, garden gloves, gloves
safety glasses, safety goggles, goggles
ear defenders, ear protection, ear muffs, earmuffs
dust mask, face mask, respirator
hi vis, high vis, hi viz, high visibility vest, hi vis vest
orange juice, oj
apple juice, aj
soda, fizzy drink, soft drink, pop, fizzy drinks, soft drinks
sparkling water, fizzy water, carbonated water, seltzer
still water, water
coffee beans, whole beans, bean coffee
ground coffee, filter coffee
coffee pods, coffee capsules, capsules, pods
tea bags, teabags
black tea, breakfast tea, builders tea > english breakfast, earl grey, assam, darjeeling, ceylon
green tea, matcha, sencha
herbal tea, herbal infusion, fruit tea, infusion > camomile, chamomile, peppermint tea, rooibos
produce, fresh produce, fruit and veg, fruit and vegetables, fruit & veg, greengrocery
cereal, cereals, breakfast cereal
muesli, musli, granola
porridge, oats, oatmeal, porridge oats, rolled oats
chocolate spread, hazelnut spread, chocolate hazelnut spread, nutella
peanut butter, nut butter
jam, jelly, preserve, conserve
biscuits, biscuit, cookies, cookie
sweets, candy, candies, lollies
chocolate, choc, chocolates
cake, cakes, gateau, sponge cake
buns, bun, rolls, bread rolls, burger buns
baguette, french stick, french bread
wholemeal, whole wheat, wholewheat, brown bread
minced beef, mince, ground beef, beef mince
chicken breast, chicken breasts, chicken fillets, chicken breast fillets
sausages, sausage, bangers, hot dogs
bacon, rashers
prawns, shrimp, shrimps
aubergine, eggplant
courgette, zucchini
coriander, cilantro
spring onions, scallions, green onions
rocket, arugula
peppers, bell peppers, capsicum
chilli, chili, chillies, chilies, chili peppers, chilli peppers, hot peppers > jalapeno, jalapenos, scotch bonnet, birds eye chilli
yoghurt, yogurt, yoghurts, yogurts
cream cheese, soft cheese
blue cheese > roquefort, stilton, gorgonzola, danish blue
semi skimmed, semi-skimmed, 2 percent, reduced fat
skimmed milk, skim milk, fat free milk
whole milk, full fat milk, full cream milk
oat milk, oat drink
crushed tomatoes, chopped tomatoes, tinned tomatoes, canned tomatoes
baked beans, beans in tomato sauce
tuna, tinned tuna, canned tuna
pasta sauce, tomato sauce, marinara
ketchup, tomato ketchup, catsup
mayonnaise, mayo
olive oil, evoo, extra virgin olive oil
sunflower oil, vegetable oil, cooking oil
stock cubes, bouillon, stock
rice, basmati, jasmine rice, long grain rice
noodles, ramen, instant noodles
ice cream, icecream, gelato
frozen pizza, pizza
ready meal, ready meals, microwave meal, tv dinner
dog food, dog meal, kibble
cat food, cat meal
cat litter, kitty litter, litter
dog lead, dog leash, lead, leash
poop bags, dog poo bags, poo bags, waste bags
birthday card, greeting card, greetings card, card
wrapping paper, gift wrap, gift wrapping
gift card, gift voucher, voucher
trainers, sneakers, running shoes
jumper, sweater, pullover
trousers, pants
umbrella, brolly
sunglasses, sun glasses, shades
notebook, notepad, exercise book, jotter
pen, pens, biro, biros, ballpoint, ballpoints
pencil, pencils
felt tips, felt tip pens, markers, marker pens
highlighter, highlighters, highlighter pens
sellotape, scotch tape, sticky tape, clear tape
stapler, staple gun
envelope, envelopes
printer paper, copy paper, a4 paper
ink, ink cartridge, ink cartridges, printer ink, toner
board game, board games, family game
jigsaw, jigsaw puzzle, puzzle
teddy, teddy bear, soft toy, plush toy, cuddly toy
toy car, toy cars, model car
`

type synonym struct {
	terms []string // stem phrases
	kinds []string // one-way: what the terms also mean
}

var (
	synOnce sync.Once
	synOf   map[string][]string // stem phrase -> stem phrases it may mean
	synMax  int                 // the most words in a term
)

func loadSynonyms() {
	synOf = map[string][]string{}
	add := func(from, to string) {
		if from == to {
			return
		}
		for _, x := range synOf[from] {
			if x == to {
				return
			}
		}
		synOf[from] = append(synOf[from], to)
	}
	key := func(t string) string { return strings.Join(Stems(t), " ") }
	for _, line := range strings.Split(synonymTable, "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		left, right, oneWay := strings.Cut(line, ">")
		var terms, kinds []string
		for _, t := range strings.Split(left, ",") {
			if k := key(t); k != "" {
				terms = append(terms, k)
				synMax = max(synMax, len(strings.Fields(k)))
			}
		}
		if oneWay {
			for _, t := range strings.Split(right, ",") {
				if k := key(t); k != "" {
					kinds = append(kinds, k)
				}
			}
		}
		for _, a := range terms {
			for _, b := range terms {
				add(a, b)
			}
			for _, k := range kinds {
				add(a, k)
			}
		}
	}
}

// Synonyms returns what a phrase of stems (space separated, as Stems joins them) may also be
// called in a catalog, as stem phrases; nil when the table knows it not.
func Synonyms(stems string) []string {
	synOnce.Do(loadSynonyms)
	return synOf[stems]
}

// MaxSynonymWords is the most words a synonym term has.
func MaxSynonymWords() int {
	synOnce.Do(loadSynonyms)
	return synMax
}

// NearestSynonymKey returns the table's term of n words that stems (a phrase of n stems) is
// one typo away from ("plug chrger" -> "plug charger"), or "" when there is none or several.
// Phrases made only of known words (isKnown) are not typos.
func NearestSynonymKey(stems string, n int, isKnown func(string) bool) string {
	synOnce.Do(loadSynonyms)
	allKnown := true
	for _, w := range strings.Fields(stems) {
		allKnown = allKnown && isKnown(w)
	}
	if allKnown || len(stems) < 4 {
		return ""
	}
	maxd := 1
	if len(stems) >= 10 {
		maxd = 2
	}
	best, tie := "", false
	bestD := maxd + 1
	for k := range synOf {
		if len(strings.Fields(k)) != n || k[0] != stems[0] {
			continue
		}
		if d := distance(stems, k, maxd); d < bestD {
			best, bestD, tie = k, d, false
		} else if d == bestD {
			tie = true
		}
	}
	if tie {
		return ""
	}
	return best
}

// distance is the edit distance of a and b, or max+1 once it exceeds max.
func distance(a, b string, max int) int {
	la, lb := len(a), len(b)
	if la-lb > max || lb-la > max {
		return max + 1
	}
	prev := make([]int, lb+1)
	cur := make([]int, lb+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= la; i++ {
		cur[0] = i
		low := i
		for j := 1; j <= lb; j++ {
			c := 1
			if a[i-1] == b[j-1] {
				c = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+c)
			low = min(low, cur[j])
		}
		if low > max {
			return max + 1
		}
		prev, cur = cur, prev
	}
	return prev[lb]
}
