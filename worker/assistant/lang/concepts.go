package lang

import (
	"strings"
	"sync"
)

// conceptLexicon groups words by the need or kind of product they point to, one group a line:
// "name: word, word, two words". A word may belong to several groups. It is general retail
// knowledge (what a customer means by "something for a headache" or "to measure a wall"), not
// any one store's catalog: the embedding uses it so that a question and a product that share a
// concept but no word still meet.
const conceptLexicon = `
pain: pain, painful, ache, aches, aching, headache, migraine, toothache, backache, sore, hurt, hurts, cramp, cramps, fever, painkiller, analgesic, ibuprofen, paracetamol, acetaminophen, aspirin, naproxen, tylenol, advil, pain relief, anti inflammatory, pharmacy, health, medicine, medicines, medication, otc
cold_flu: cold, colds, flu, influenza, cough, coughing, sneeze, sneezing, runny nose, blocked nose, stuffy, congestion, congested, sore throat, throat, lozenge, lozenges, nasal, decongestant, cough syrup, syrup, tissues, chesty, pharmacy, health, medicine, medication
allergy: allergy, allergies, allergic, hay fever, hayfever, antihistamine, itchy eyes, pollen, cetirizine, loratadine, sneeze, pharmacy, health, medicine
stomach: stomach, tummy, indigestion, heartburn, reflux, antacid, nausea, diarrhoea, diarrhea, constipation, laxative, bloating, upset stomach, digestion, digestive, pharmacy, health, medicine
skin: skin, dry skin, moisturiser, moisturizer, lotion, cream, hand cream, eczema, itchy, rash, balm, lip balm, chapped, cracked
sun: sun, sunburn, sunburnt, sunscreen, sunblock, suncream, sun cream, spf, uv, after sun, aftersun, tan, tanning, beach, summer
first_aid: first aid, plaster, plasters, bandage, bandaid, band aid, wound, cut, cuts, graze, scrape, blister, gauze, antiseptic, disinfectant, burn, dressing, injury, pharmacy, health
vitamins: vitamin, vitamins, supplement, supplements, multivitamin, immune, immunity, zinc, magnesium, iron, omega, fish oil, tired, energy, pharmacy, health, wellness
oral: tooth, teeth, toothpaste, toothbrush, floss, mouthwash, dental, gums, breath, whitening
hair: hair, shampoo, conditioner, hairspray, hair gel, comb, hairbrush, dandruff, styling, hair dryer
shaving: shave, shaving, razor, razors, blade, blades, shaving foam, beard, trimmer, aftershave
hygiene: soap, shower gel, body wash, deodorant, antiperspirant, wash, washing, hygiene, clean hands, sanitiser, sanitizer, hand gel, bath
eyes: eye, eyes, eye drops, contact lens, contact lenses, lens solution, dry eyes, glasses
sleep: sleep, sleeping, insomnia, sleepless, melatonin, relax, calm, night, tired
baby: baby, babies, infant, newborn, toddler, nappy, nappies, diaper, diapers, wipes, baby wipes, formula, baby food, pacifier, dummy, teething, bottle, bib
feminine: period, tampon, tampons, sanitary, pads, menstrual, panty liners
pregnancy: pregnancy, pregnant, pregnancy test, ovulation, condom, condoms, contraceptive
dairy: milk, dairy, cream, butter, yogurt, yoghurt, creme fraiche, kefir, lactose, semi skimmed, skimmed, whole milk, grocery, groceries, food, fridge, chilled
cheese: cheese, cheddar, brie, camembert, comte, gouda, mozzarella, parmesan, feta, emmental, goat cheese, blue cheese, grocery, food, deli, chilled
bread: bread, loaf, baguette, bun, buns, roll, rolls, toast, sourdough, croissant, croissants, pastry, pastries, bakery, bagel, wrap, tortilla, pita, grocery, food
fruit: fruit, fruits, apple, apples, banana, bananas, orange, oranges, pear, grape, grapes, berry, berries, strawberry, strawberries, lemon, lime, avocado, mango, pineapple, kiwi, melon, peach, plum, cherry, fresh fruit, grocery, food, fresh
vegetables: vegetable, vegetables, veg, veggie, veggies, salad, lettuce, tomato, tomatoes, potato, potatoes, carrot, carrots, onion, onions, garlic, pepper, peppers, cucumber, broccoli, spinach, mushroom, mushrooms, courgette, zucchini, produce, greens, grocery, food, fresh
meat: meat, beef, steak, chicken, pork, ham, bacon, sausage, sausages, mince, minced, lamb, turkey, burger, burgers, salami, deli, grocery, food, butcher
fish: fish, salmon, tuna, cod, prawns, shrimp, seafood, sardines, mackerel, anchovies
pasta_rice: pasta, spaghetti, penne, fusilli, macaroni, noodles, lasagne, lasagna, rice, basmati, risotto, couscous, quinoa, grain, grains, grocery, food, dry goods
breakfast: breakfast, cereal, cereals, muesli, granola, oats, porridge, cornflakes, jam, honey, spread, pancakes, morning
coffee: coffee, espresso, arabica, robusta, beans, ground coffee, instant coffee, capsules, pods, latte, cappuccino, decaf, caffeine
tea: tea, teas, green tea, black tea, herbal tea, chamomile, camomile, infusion, teabags, tea bags, earl grey
water: water, still water, sparkling water, mineral water, bottled water, thirsty, hydration
drinks: drink, drinks, beverage, beverages, juice, orange juice, soda, cola, lemonade, soft drink, smoothie, thirsty, refreshment, grocery, beverages
alcohol: alcohol, wine, red wine, white wine, rose, champagne, prosecco, beer, lager, ale, cider, spirits, vodka, whisky, whiskey, gin, rum, bordeaux, aperitif
snacks: snack, snacks, crisps, chips, nuts, peanuts, popcorn, crackers, pretzels, nibbles, munchies, grocery, food
sweets: sweet, sweets, candy, candies, chocolate, chocolates, biscuit, biscuits, cookie, cookies, cake, cakes, dessert, treat, treats, gummies, sugar
baking: baking, bake, flour, sugar, yeast, baking powder, vanilla, icing, cake mix, baking soda
pantry: pantry, canned, tinned, tin, can, cans, jar, sauce, ketchup, mayonnaise, mustard, vinegar, oil, olive oil, salt, pepper, spices, spice, herbs, stock cubes, soup, beans, lentils, chickpeas, crushed tomatoes, grocery, groceries, food, dry goods, cupboard, store cupboard
cooking_oil: oil, olive oil, sunflower oil, frying, cooking oil, extra virgin
frozen: frozen, freezer, ice cream, ice, frozen pizza, frozen vegetables, fries
vegetarian: vegetarian, vegan, plant based, tofu, meat free, dairy free, oat milk, soy milk, almond milk
gluten: gluten, gluten free, coeliac, celiac, wheat free
cleaning: clean, cleaning, cleaner, cleaners, spray, wipe, wipes, bleach, disinfect, disinfectant, mop, bucket, sponge, sponges, scrub, duster, dust, dirt, dirty, stain, stains, polish, degreaser, limescale, descaler, bathroom cleaner, kitchen cleaner, mess, household, home
laundry: laundry, washing, detergent, washing powder, washing liquid, fabric softener, softener, conditioner, stain remover, clothes, wash clothes, washing machine, pods, capsules, dryer sheets, ironing, household, home
dishes: dish, dishes, dishwasher, dishwashing, washing up, dish soap, washing up liquid, dishwasher tabs, rinse aid, plates, pots, pans, household, kitchen
paper: paper, toilet paper, toilet roll, loo roll, kitchen roll, paper towel, paper towels, tissues, napkins, serviettes, household
bins: bin, bins, rubbish, trash, garbage, bin bags, trash bags, waste, recycling, compost, household
batteries: battery, batteries, aa, aaa, 9v, button cell, rechargeable, power, charge, charger, cells, cr2032, remote
lighting: light, lights, lighting, lamp, lamps, bulb, bulbs, light bulb, led, torch, flashlight, headlamp, lantern, dark, darkness, night light, candle, candles, fairy lights, illuminate, see in the dark
measure: measure, measuring, measurement, measurements, tape measure, tape, ruler, rule, length, width, height, distance, size, metre, meter, laser measure, dimensions, level, spirit level, wall, room, how long, how big
drill: drill, drills, drilling, drill bit, drill bits, bit, bits, hole, holes, cordless drill, hammer drill, impact driver, masonry, bore, hardware, power tools, power tool
screw: screw, screws, screwdriver, screwdrivers, bolt, bolts, nut, nuts, washer, washers, anchor, anchors, wall plugs, rawlplug, fixings, fasteners, allen key, hex key, torx, phillips, hardware, fixings
hammer_nail: hammer, hammers, nail, nails, mallet, tack, tacks, pin, pins, hang, hanging, picture, picture hook, hooks, frame, wall, hardware, hand tools
saw_cut: saw, saws, cut, cutting, cutter, knife, knives, blade, utility knife, box cutter, scissors, hacksaw, jigsaw, circular saw, trim, shears, pruning, hardware, power tools, hand tools
glue: glue, glues, adhesive, superglue, super glue, epoxy, wood glue, glue gun, tape, duct tape, masking tape, sealant, silicone, caulk, stick, sticking, repair, fix, mend
paint: paint, paints, painting, primer, emulsion, gloss, varnish, stain, brush, brushes, paintbrush, roller, rollers, tray, decorating, wall, walls, colour, color, masking tape, dust sheet, sandpaper, sanding
plumbing: plumbing, pipe, pipes, leak, leaking, leaky, tap, taps, faucet, drain, blocked drain, unblock, plunger, washer, plumbers tape, ptfe, hose, toilet, sink, shower head, water
electrical: electric, electrical, socket, sockets, plug, plugs, extension, extension cord, extension lead, power strip, cable, cables, wire, wiring, fuse, fuses, switch, adapter, adaptor, multi plug, surge
ladder: ladder, ladders, step ladder, stepladder, step stool, reach, high, ceiling, steps
safety: safety, gloves, goggles, glasses, mask, dust mask, ear defenders, hard hat, helmet, protective, protection, hi vis, workwear, boots
tools: tool, tools, toolbox, tool kit, toolkit, spanner, wrench, pliers, socket set, multitool, workbench, diy, repair, fix, build, hardware, hand tools, power tools
garden: garden, gardening, plant, plants, planting, seeds, soil, compost, pot, pots, planter, grow, growing, flower, flowers, lawn, grass, mower, lawnmower, weeds, weed, weeding, trowel, spade, shovel, rake, hoe, fork, hedge, shears, pruning, secateurs, outdoor, yard, fertiliser, fertilizer
watering: watering, watering can, hose, hosepipe, sprinkler, irrigation, water the plants, water plants, nozzle
bbq: bbq, barbecue, grill, grilling, charcoal, briquettes, lighter fluid, firelighters, skewers, tongs
pest: pest, pests, insect, insects, mosquito, mosquitoes, fly, flies, ant, ants, wasp, wasps, mouse, mice, rat, rats, repellent, trap, traps, bug, bugs, slug, slugs
phone: phone, phones, smartphone, mobile, cell phone, iphone, android, galaxy, pixel, handset, sim, electronics, electronic, gadget, gadgets, tech
charging: charger, chargers, charging, charge, cable, cables, usb, usb c, lightning, power bank, powerbank, battery pack, wall charger, wireless charger, adapter, plug, flat battery, dead battery, electronics, electronic, tech, accessories
audio: headphones, headphone, earphones, earbuds, earbud, headset, speaker, speakers, bluetooth speaker, audio, sound, music, listen, listening, noise cancelling, wireless, soundbar, radio, electronics, electronic, tech, gadget
tv: tv, television, screen, monitor, display, hdmi, remote, remote control, streaming, smart tv, projector, watch movies, film, electronics, electronic, home entertainment
computer: computer, laptop, laptops, notebook, pc, desktop, tablet, ipad, chromebook, macbook, keyboard, mouse, mice, webcam, monitor, usb hub, work from home, electronics, electronic, tech, it
storage: storage, memory, memory card, sd card, microsd, usb stick, flash drive, pendrive, hard drive, ssd, external drive, backup, gb, tb, electronics, computer accessories
camera: camera, cameras, photo, photos, photography, lens, tripod, action camera, pictures, video, electronics, electronic
gaming: game, games, gaming, console, controller, playstation, xbox, nintendo, switch, video game, gamer, electronics, entertainment
smart_home: smart, smart home, smart plug, smart bulb, wifi, router, mesh, alexa, google home, doorbell, security camera, electronics, gadget
printer: printer, printers, printing, print, ink, ink cartridge, cartridge, toner, paper, scanner, copier
office: office, stationery, pen, pens, pencil, pencils, notebook, notepad, paper, envelope, envelopes, stapler, staples, folder, folders, binder, highlighter, marker, markers, sticky notes, post it, calculator, school, study, desk
school: school, back to school, pencil case, backpack, schoolbag, rucksack, lunchbox, crayons, colouring, coloring, eraser, rubber, sharpener, glue stick, exercise book
pet: pet, pets, dog, dogs, puppy, cat, cats, kitten, pet food, dog food, cat food, treats, litter, cat litter, leash, lead, collar, chew, toy, fish food, bird seed, hamster, rabbit
toys: toy, toys, game, games, board game, puzzle, puzzles, lego, doll, dolls, teddy, plush, kids, children, child, play, playing, fun, cards, playing cards
gift: gift, gifts, present, presents, birthday, anniversary, christmas, thank you, surprise, gift card, voucher, for my mum, for my dad, hamper, gift set, wrapping paper, card, cards, flowers, chocolates, candle
party: party, parties, celebration, celebrate, balloons, decorations, candles, paper plates, cups, napkins, birthday, guests, bbq
kitchen: kitchen, cookware, pan, pans, pot, pots, frying pan, saucepan, knife, knives, cutting board, chopping board, utensils, spatula, whisk, bowl, bowls, plates, cups, mugs, glasses, cutlery, kettle, toaster, blender, cook, cooking, oven, baking tray, foil, cling film, baking paper, container, containers, tupperware
appliances: appliance, appliances, kettle, toaster, blender, mixer, microwave, vacuum, vacuum cleaner, hoover, iron, fan, heater, air fryer, coffee machine, hair dryer
heating_cooling: heat, heater, heating, warm, cold, freezing, chilly, fan, cooling, hot, air conditioner, radiator, hot water bottle, blanket, thermal
clothing: clothes, clothing, shirt, shirts, t shirt, tshirt, top, trousers, pants, jeans, dress, skirt, jacket, coat, jumper, sweater, hoodie, socks, underwear, pyjamas, shoes, boots, trainers, sneakers, hat, cap, scarf, gloves, wear, outfit
rain: rain, raining, rainy, wet, umbrella, raincoat, waterproof, poncho, wellies, wellington boots
sports: sport, sports, fitness, gym, exercise, workout, training, running, run, yoga, mat, yoga mat, weights, dumbbell, ball, football, tennis, bike, bicycle, cycling, swim, swimming, water bottle, hiking, camping, tent, sleeping bag, outdoor
car: car, cars, vehicle, auto, motor, engine oil, motor oil, windscreen, windshield, screenwash, antifreeze, de icer, tyre, tire, tyres, tires, wiper, wipers, jump leads, car wash, air freshener
books: book, books, novel, novels, reading, read, magazine, magazines, newspaper, cookbook, comic, story, stories, author
beauty: beauty, makeup, make up, cosmetics, lipstick, mascara, foundation, nail polish, perfume, fragrance, cologne, face, facial, serum, cleanser, skincare, skin care
hours: open, opening, opens, hours, close, closing, closes, closed, time, times, schedule, timetable, when, late, early, today, tonight, tomorrow, weekend, sunday, saturday, monday, holiday, holidays
returns: return, returns, returning, refund, refunds, exchange, exchanges, money back, receipt, faulty, broken, damaged, wrong size, send back, bring back, warranty, guarantee
payment: pay, paying, payment, payments, card, cards, credit card, debit card, cash, contactless, apple pay, google pay, mobile pay, visa, mastercard, amex, cheque, voucher, gift card, tap
parking: park, parking, car park, parking lot, garage, car, cars, spaces, spot, free parking
wifi: wifi, wi fi, internet, wireless, password, online, connection, network, hotspot
toilets: toilet, toilets, restroom, restrooms, bathroom, washroom, loo, wc, baby changing
delivery: delivery, deliver, delivering, shipping, ship, click and collect, collect, pickup, pick up, order, ordering, online order, home delivery, courier
loyalty: loyalty, points, rewards, member, membership, club card, loyalty card, discount card, sign up, scheme
accessibility: accessible, accessibility, wheelchair, disabled, disability, ramp, lift, elevator, step free, stairs
contact: contact, phone number, call, email, address, located, location, find you, directions, customer service, manager, complaint
bags: bag, bags, carrier bag, shopping bag, plastic bag, reusable bag, tote
prescription: prescription, prescriptions, pharmacist, doctor, medicine, medicines, medication, chemist, repeat prescription, consultation, advice
pets_allowed: dog friendly, dogs allowed, pets allowed, guide dog, bring my dog
cheap: cheap, cheaper, cheapest, inexpensive, budget, affordable, bargain, value, low cost, less expensive, economical, save money, deal, deals, offer, offers, discount, sale
expensive: expensive, premium, best, top, luxury, high end, quality, pro, professional
big: big, bigger, biggest, large, larger, largest, xl, huge, family size, more, jumbo, maxi
small: small, smaller, smallest, little, mini, compact, tiny, travel size, less, pocket
`

var (
	conceptOnce sync.Once
	conceptOf   map[string][]uint16
	conceptName []string
	lexWords    map[string]bool // the folded single words of the lexicon
)

func loadConcepts() {
	conceptOf = map[string][]uint16{}
	lexWords = map[string]bool{}
	for _, line := range strings.Split(conceptLexicon, "\n") {
		name, words, ok := strings.Cut(strings.TrimSpace(line), ":")
		if !ok {
			continue
		}
		id := uint16(len(conceptName))
		conceptName = append(conceptName, name)
		for _, w := range strings.Split(words, ",") {
			for _, x := range Words(w) {
				lexWords[x.Norm] = true
			}
			key := strings.Join(Stems(w), " ")
			if key == "" {
				continue
			}
			have := conceptOf[key]
			if len(have) == 0 || have[len(have)-1] != id {
				conceptOf[key] = append(have, id)
			}
		}
	}
}

// Concepts returns the concepts of a stem, or of two stems joined by a space ("tape measur"),
// in lexicon order; nil when it has none.
func Concepts(stems string) []uint16 {
	conceptOnce.Do(loadConcepts)
	return conceptOf[stems]
}

// ConceptName names a concept returned by Concepts ("pain", "measure").
func ConceptName(id uint16) string {
	conceptOnce.Do(loadConcepts)
	if int(id) < len(conceptName) {
		return conceptName[id]
	}
	return ""
}

// Known reports whether a normalised word is a common English word of the lexicon or a
// function word: such a word is meant as written, so it is never read as a typo of another.
func Known(norm string) bool {
	conceptOnce.Do(loadConcepts)
	return lexWords[norm] || functionWords[norm]
}
