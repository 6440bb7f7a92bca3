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
measure: measure, measuring, measurement, measurements, tape measure, tape, ruler, rule, length, width, height, distance, size, metre, meter, laser measure, dimensions, level, spirit level, how long, how big
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
charging: phone dead, dead phone, phone died, battery died, phone battery, low battery, charge my phone, charger, chargers, charging, charge, cable, cables, usb, usb c, lightning, power bank, powerbank, battery pack, wall charger, wireless charger, adapter, plug, flat battery, dead battery, electronics, electronic, tech, accessories
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
toys: toy, toys, game, games, board game, puzzle, puzzles, lego, doll, dolls, teddy, plush, kids, children, child, play, playing, fun, cards, playing cards, busy, bored, boredom, entertain, entertained, teaser, ball, balls, chase
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
uk_us_veg: aubergine, eggplant, courgette, zucchini, rocket, arugula, coriander, cilantro, spring onion, scallion, swede, rutabaga
uk_us_snack: crisps, potato chips, biscuit, biscuits, cookie, cookies, sweets, candy, candies, jelly, jello, ice lolly, popsicle
uk_us_home: torch, flashlight, tap, faucet, spanner, wrench, hoover, vacuum, bin, trash can, garbage can, dustbin, nappy, diaper, dummy, pacifier, pram, stroller, cot, crib
uk_us_clothes: jumper, sweater, trousers, pants, trainers, sneakers, vest, undershirt, pants, underwear, wellies, rain boots
medicine_names: paracetamol, acetaminophen, tylenol, panadol, calpol, ibuprofen, advil, nurofen, motrin, aspirin, naproxen, aleve, antihistamine, cetirizine, zyrtec, loratadine, claritin, benadryl, diphenhydramine, omeprazole, gaviscon, rennie, tums, imodium, loperamide
dog: dog, dogs, puppy, puppies, canine, dog food, kibble, dog treats, chew, chews, leash, lead, collar, harness, dog bed, poop bags, dog toy, bone
cat: cat, cats, kitten, kittens, feline, cat food, cat litter, litter, scratching post, cat toy, catnip, litter tray
small_pets: hamster, guinea pig, rabbit, bunny, rodent, gerbil, ferret, hay, straw, bedding, hutch, cage, turtle, reptile
birds: bird, birds, parrot, budgie, budgies, canary, cockatiel, bird seed, bird food, seed mix, feeder, bird feeder, suet, fat balls, bird table, cage, garden birds
fish: fish, goldfish, tropical fish, aquarium, aquariums, fish tank, tank, fish food, flakes, filter, aquarium filter, heater, water conditioner, pond, gravel
pet_health: flea, fleas, tick, ticks, worming, wormer, dewormer, flea treatment, pet shampoo, grooming, brush, nail clippers, vet, itch, itchy, itching, scratching, shedding, moulting, deshedding, hair everywhere, worms
plants: plant, plants, houseplant, houseplants, succulent, cactus, orchid, fern, seedling, seedlings, bulbs, shrub, shrubs, tree, trees, herbs, flowers, roses, tulips, bouquet
lawn_care: lawn, grass, grass seed, turf, mower, lawnmower, strimmer, trimmer, edger, weed killer, feed and weed, moss, rake, leaves, leaf blower
outdoor_furniture: patio, garden furniture, chair, chairs, table, parasol, umbrella, bench, hammock, cushion, cushions, deck, decking, outdoor
camping: camping, camp, tent, tents, sleeping bag, sleeping mat, camping stove, gas canister, lantern, cooler, cool box, cool bag, hiking, backpack, rucksack, compass, trail, outdoors
cycling: bike, bikes, bicycle, bicycles, cycling, cycle, helmet, bike lock, lock, pump, inner tube, puncture, tyre, lights, saddle, chain oil
fitness: fitness, gym, exercise, workout, work out, training, yoga, pilates, mat, dumbbell, dumbbells, weights, kettlebell, resistance band, protein, protein powder, shaker, running, jogging, trainers, sports drink
ball_sports: football, soccer, basketball, tennis, racket, racquet, badminton, shuttlecock, golf, golf balls, cricket, rugby, volleyball, ball, balls, goal, net
swimming: swim, swimming, pool, swimsuit, swimwear, goggles, swim cap, towel, beach towel, armbands, float, inflatable, snorkel
winter: winter, snow, ice, icy, frost, frosty, freezing, cold weather, gloves, scarf, hat, beanie, thermal, de icer, ice scraper, grit, salt, shovel, snow shovel, hot water bottle, hand warmer
summer: summer, hot weather, heat, heatwave, fan, sunscreen, sunglasses, hat, cooler, ice, ice cream, paddling pool, bbq, picnic, beach
picnic: picnic, picnic blanket, cool bag, sandwich, sandwiches, paper plates, cups, napkins, flask, thermos, bread, baguette, rolls, cheese, ham, crisps, fruit, grapes, strawberries, juice, lemonade, sparkling water, snacks
party_supplies: party, balloons, banner, bunting, decorations, streamers, confetti, party hats, paper plates, plastic cups, napkins, candles, birthday candles, cake, invitations, party bags
stationery_paper: paper, printer paper, a4, card, cardstock, envelope, envelopes, stamps, notepad, notebook, journal, diary, planner, calendar, post it, sticky notes, labels
writing: pen, pens, ballpoint, biro, pencil, pencils, marker, markers, felt tip, highlighter, highlighters, crayon, crayons, chalk, ink, fountain pen, refill, eraser, rubber, sharpener, correction fluid, tipp ex
art_craft: art, craft, crafts, crafting, paint, paints, watercolour, watercolor, acrylic, canvas, brush, brushes, sketch, sketchbook, drawing, glitter, glue, glue stick, scissors, yarn, wool, knitting, sewing, needle, thread, beads, modelling clay, clay, play doh
books_reading: book, books, novel, fiction, nonfiction, paperback, hardback, hardcover, bestseller, children's book, picture book, cookbook, recipe book, biography, history, crime, thriller, romance, fantasy, sci fi, comic, comics, manga, magazine, reading, read, author, audiobook, bookmark
games_puzzles: game, games, board game, board games, card game, cards, puzzle, puzzles, jigsaw, chess, dice, scrabble, monopoly, family game, party game, trivia, quiz
baby_care: baby, nappy, nappies, diaper, diapers, wipes, baby wipes, nappy cream, rash cream, baby lotion, baby shampoo, baby bath, baby food, formula, milk powder, bottle, bottles, teat, sippy cup, bib, bibs, teething, teether, dummy, pacifier, muslin, baby monitor
kids_toys: toy, toys, kids, children, child, boy, girl, toddler, baby toy, teddy, teddy bear, soft toy, plush, doll, dolls, action figure, lego, building blocks, blocks, toy car, cars, train set, playset, craft kit, stickers, colouring book, outdoor toys, bubbles, water pistol, kite
beauty_makeup: makeup, make up, cosmetics, foundation, concealer, powder, blush, bronzer, lipstick, lip gloss, mascara, eyeliner, eyeshadow, eyebrow, brow, nail polish, nail varnish, nail file, false lashes, makeup remover, cotton pads, cotton wool
fragrance: perfume, fragrance, eau de toilette, eau de parfum, cologne, aftershave, body spray, scent, smell, smells nice, gift set
skincare: skincare, skin care, face cream, moisturiser, moisturizer, serum, cleanser, toner, face wash, face mask, exfoliator, scrub, night cream, day cream, eye cream, anti ageing, anti aging, wrinkles, spots, acne, pimples, blemishes, oily skin, dry skin, sensitive skin
hair_care: hair, shampoo, conditioner, hair mask, hair oil, hair spray, hairspray, mousse, gel, wax, dry shampoo, hair dye, hair colour, grey hair, frizz, curly, straightener, curling iron, hair dryer, hairdryer, brush, comb, hair ties, bobby pins, scrunchie
mens_grooming: shave, shaving, razor, razors, blades, shaving cream, shaving gel, shaving foam, aftershave, beard, beard oil, trimmer, clippers, moustache, grooming
oral_care: teeth, tooth, toothpaste, toothbrush, electric toothbrush, brush heads, floss, dental floss, interdental, mouthwash, whitening, sensitive teeth, gums, bad breath, denture, dentures
eye_ear: eye, eyes, eye drops, dry eyes, red eyes, contact lenses, contacts, lens solution, reading glasses, ear, ears, ear drops, ear wax, earplugs, ear plugs, hearing aid batteries
foot_care: foot, feet, foot cream, corn, corns, blister, blisters, bunion, athlete's foot, insoles, heel, cracked heels, verruca, nail fungus, socks
incontinence_mobility: incontinence, pads, walking stick, cane, crutches, support, brace, bandage, knee support, wrist support, back support, compression socks, pill box, pill organiser
diabetes_tests: diabetes, blood sugar, glucose, test strips, lancets, thermometer, temperature, blood pressure, monitor, pregnancy test, covid test, test kit
sexual_health: condom, condoms, lube, lubricant, contraception, morning after pill, emergency contraception
smoking: quit smoking, nicotine, nicotine patches, nicotine gum, vape, e cigarette, lighter, lighters, matches
hydration_rehydration: dehydrated, dehydration, rehydration, electrolytes, oral rehydration, hangover
cough_cold_more: cough, dry cough, chesty cough, tickly cough, cough medicine, cough drops, throat spray, vapour rub, vicks, menthol, steam, inhaler, blocked nose, sinus, sinusitis, nasal spray, saline, tissues, runny nose, fever, temperature, chills, shivers
sleep_relax: sleep, sleeping, can't sleep, insomnia, sleep aid, sleeping pills, melatonin, valerian, lavender, relax, relaxing, stress, anxiety, calm, eye mask, ear plugs, pillow
energy_focus: tired, tiredness, fatigue, energy, energy drink, caffeine, coffee, focus, concentration, vitamin b12, iron tablets, ginseng
kitchen_storage: storage, container, containers, tupperware, jar, jars, lunch box, lunchbox, food bag, freezer bags, zip bags, cling film, plastic wrap, foil, aluminium foil, tin foil, baking paper, parchment, greaseproof
cookware_more: pan, pans, frying pan, skillet, saucepan, pot, stockpot, wok, casserole, dutch oven, baking tray, baking sheet, roasting tin, cake tin, muffin tin, oven dish, lid, steamer
kitchen_tools: knife, knives, chef's knife, bread knife, peeler, grater, zester, whisk, spatula, ladle, tongs, can opener, tin opener, bottle opener, corkscrew, sieve, colander, measuring cups, measuring jug, scales, kitchen scales, rolling pin, chopping board, cutting board, mixing bowl
tableware: plate, plates, bowl, bowls, mug, mugs, cup, cups, glass, glasses, wine glass, tumbler, cutlery, fork, forks, spoon, spoons, knife, teapot, jug, napkin, napkins, placemat, tablecloth, dinner set
small_appliances: kettle, toaster, blender, smoothie maker, food processor, mixer, stand mixer, hand mixer, microwave, air fryer, slow cooker, pressure cooker, rice cooker, coffee machine, coffee maker, espresso machine, juicer, sandwich maker, waffle maker, grill
cleaning_more: cleaner, all purpose cleaner, multi surface, spray, bleach, disinfectant, antibacterial, wipes, cleaning wipes, glass cleaner, window cleaner, oven cleaner, toilet cleaner, toilet bleach, limescale, descaler, drain cleaner, unblocker, floor cleaner, carpet cleaner, furniture polish, sponge, sponges, scourer, cloth, cloths, microfibre, microfiber, mop, bucket, broom, dustpan, brush, duster, rubber gloves, mould, mold, grease, stains, stain remover, odour, smell, air freshener, candle, deodoriser
laundry_more: laundry, washing powder, washing liquid, detergent, laundry pods, capsules, fabric softener, fabric conditioner, stain remover, bleach, whites, colours, delicates, wool wash, dryer sheets, laundry basket, pegs, clothes pegs, clothes horse, airer, drying rack, iron, ironing board, starch
bathroom_home: towel, towels, bath mat, shower curtain, toilet brush, toilet roll holder, soap dish, bath, shower, bath towel, hand towel
bedroom_home: bed, bedding, duvet, duvet cover, pillow, pillows, pillowcase, sheet, sheets, fitted sheet, blanket, throw, mattress, mattress protector, hot water bottle
home_decor: decor, decoration, decorations, frame, photo frame, picture frame, mirror, vase, clock, candle, candles, cushion, rug, curtains, blinds, lamp, lampshade, ornament, wall art, artificial flowers
light_bulbs: bulb, bulbs, light bulb, lightbulb, led bulb, energy saving, bayonet, screw fitting, e27, e14, b22, gu10, spotlight, fluorescent, halogen, dimmable, warm white, daylight
batteries_more: battery, batteries, aa, aaa, c, d, 9v, button, coin cell, cr2032, lr44, rechargeable, charger, battery charger, remote batteries, hearing aid batteries, watch battery
power_cables: extension lead, extension cord, power strip, surge protector, multi plug, adapter, travel adapter, plug adapter, socket, cable, cables, hdmi cable, usb cable, charging cable, lightning cable, usb c cable, aux cable, ethernet cable, cable ties
phone_accessories: phone case, case, cover, screen protector, tempered glass, phone holder, car mount, selfie stick, pop socket, phone charger, fast charger, wireless charger, power bank, earphones
computer_accessories: keyboard, mouse, mousepad, mouse mat, webcam, headset, usb hub, laptop stand, laptop bag, laptop sleeve, monitor, printer, ink, toner, usb stick, memory stick, flash drive, sd card, hard drive, external drive, router, wifi extender
audio_video: headphones, earbuds, earphones, wireless earbuds, bluetooth headphones, noise cancelling, speaker, speakers, bluetooth speaker, smart speaker, soundbar, radio, dab radio, record player, turntable, microphone, tv, television, smart tv, streaming stick, remote control
security: lock, locks, padlock, bike lock, door lock, key, keys, key cutting, safe, alarm, smoke alarm, smoke detector, carbon monoxide, co detector, security camera, doorbell, video doorbell, motion sensor, chain, latch
door_window: door, doors, window, windows, hinge, hinges, handle, handles, door handle, draught excluder, weather strip, letterbox, door stop, curtain rail, curtain pole, blind, blinds
wood_lumber: wood, timber, lumber, plank, planks, board, boards, plywood, mdf, skirting, moulding, dowel, batten, decking boards, fence panel, fence, post, posts, shed
building_materials: cement, concrete, mortar, plaster, plasterboard, drywall, filler, spackle, grout, tile, tiles, tile adhesive, brick, bricks, sand, gravel, insulation, sealant, damp proof
fixings_more: nail, nails, screw, screws, bolt, bolts, nut, nuts, washer, washers, rawlplug, wall plug, wall plugs, anchors, hooks, hook, bracket, brackets, shelf bracket, hinge, hinges, cable clips, picture hooks, command strips, adhesive hooks
power_tools_more: drill, cordless drill, hammer drill, impact driver, combi drill, drill driver, circular saw, jigsaw, mitre saw, reciprocating saw, sander, orbital sander, angle grinder, grinder, heat gun, glue gun, multi tool, oscillating tool, router, planer, nail gun, battery pack, charger, 18v, 20v, 12v
hand_tools_more: hammer, screwdriver, screwdrivers, pliers, spanner, spanners, wrench, wrenches, adjustable wrench, socket set, ratchet, allen keys, hex keys, tape measure, measuring tape, spirit level, level, stanley knife, utility knife, box cutter, chisel, file, hacksaw, handsaw, saw, clamp, clamps, vice, crowbar, pry bar, mallet, stud finder, toolbox, tool bag, tool kit
paint_more: paint, emulsion, gloss, satin, eggshell, matt, primer, undercoat, masonry paint, wood stain, varnish, wood oil, paint brush, roller, paint tray, masking tape, dust sheet, sandpaper, filler, white spirit, paint thinner, colour chart, tester pot, ceiling, walls, fence paint, spray paint
plumbing_more: plumbing, pipe, pipes, fitting, fittings, compression fitting, elbow, tee, valve, stopcock, tap, taps, washer, o ring, ptfe tape, plumbers tape, sealant, silicone, plunger, drain, drain unblocker, toilet seat, cistern, flush, shower head, hose, leak, leaking, drip, dripping, blocked, blockage, burst pipe
electrical_more: electric, electrical, wire, wiring, cable, fuse, fuses, fuse box, plug, plugs, socket, sockets, switch, switches, light switch, dimmer, junction box, circuit, voltage tester, multimeter, electrical tape, insulating tape, terminal, connector, timer, plug timer
safety_more: safety glasses, goggles, ear defenders, dust mask, respirator, gloves, work gloves, hard hat, hi vis, knee pads, steel toe, safety boots, first aid kit, fire extinguisher, fire blanket
garden_tools_more: spade, shovel, fork, garden fork, rake, hoe, trowel, hand fork, secateurs, pruners, loppers, shears, hedge trimmer, wheelbarrow, watering can, hose, hose reel, sprinkler, gloves, kneeler, garden gloves, leaf rake, strimmer, lawnmower, mower
compost_soil: soil, compost, potting soil, potting mix, multi purpose compost, topsoil, mulch, bark, manure, fertiliser, fertilizer, plant food, feed, tomato feed, grow bag, peat
fruit_more: apple, apples, pear, pears, banana, bananas, orange, oranges, clementine, satsuma, mandarin, lemon, lemons, lime, limes, grapefruit, grapes, strawberry, strawberries, raspberry, raspberries, blueberry, blueberries, blackberry, cherries, plum, plums, peach, peaches, nectarine, apricot, mango, mangoes, pineapple, melon, watermelon, kiwi, avocado, avocados, pomegranate, fig, dates, coconut
veg_more: potato, potatoes, sweet potato, carrot, carrots, onion, onions, red onion, garlic, leek, leeks, celery, cucumber, tomato, tomatoes, cherry tomatoes, lettuce, salad, spinach, kale, cabbage, broccoli, cauliflower, peas, green beans, sweetcorn, corn, pepper, peppers, chilli, chili, mushroom, mushrooms, courgette, aubergine, beetroot, radish, asparagus, pumpkin, squash, ginger, herbs, parsley, basil, mint
meat_more: chicken, chicken breast, chicken thighs, whole chicken, turkey, beef, steak, mince, minced beef, ground beef, burger, burgers, pork, pork chops, bacon, ham, sausage, sausages, lamb, lamb chops, veal, duck, meatballs, salami, chorizo, pepperoni, prosciutto, deli meat, cold cuts, hot dogs
fish_more: fish, salmon, tuna, cod, haddock, mackerel, sardines, trout, prawns, shrimp, crab, lobster, mussels, fish fingers, smoked salmon, seafood, anchovies
eggs: egg, eggs, free range, large eggs, dozen, half dozen, omelette
cereal_breakfast: cereal, cornflakes, muesli, granola, porridge, oats, oatmeal, rice krispies, bran, weetabix, breakfast bar, cereal bar, pancake, pancakes, syrup, maple syrup, jam, marmalade, honey, peanut butter, nutella, chocolate spread, toast
bakery_more: bread, loaf, white bread, brown bread, wholemeal, whole wheat, sourdough, rye, baguette, roll, rolls, bun, buns, bagel, bagels, croissant, croissants, pain au chocolat, muffin, muffins, scone, scones, cake, cakes, cupcake, brownie, doughnut, donut, pastry, pastries, pie, tart, cookie, wraps, tortillas, pitta, naan, crumpets, birthday cake
sauces_condiments: ketchup, tomato sauce, mayonnaise, mayo, mustard, bbq sauce, brown sauce, soy sauce, hot sauce, chilli sauce, sriracha, salad dressing, vinegar, balsamic, olive oil, pesto, pasta sauce, curry sauce, gravy, stock, stock cubes, bouillon, salsa, hummus, relish, chutney, pickles
spices_herbs: salt, pepper, black pepper, spice, spices, paprika, cumin, curry powder, turmeric, cinnamon, nutmeg, oregano, basil, thyme, rosemary, chilli flakes, garlic powder, seasoning, herbs
tinned_food: tin, tins, tinned, can, canned, baked beans, beans, chickpeas, lentils, kidney beans, tinned tomatoes, chopped tomatoes, crushed tomatoes, tuna, sweetcorn, soup, coconut milk, tinned fruit, spam
dry_goods: flour, sugar, rice, pasta, noodles, couscous, quinoa, lentils, oats, breadcrumbs, cornflour, baking powder, yeast, cocoa, dried fruit, raisins, nuts, seeds
frozen_more: frozen, frozen peas, frozen vegetables, frozen pizza, pizza, chips, fries, oven chips, ice cream, sorbet, frozen fish, fish fingers, frozen berries, ready meal, ready meals, ice cubes, ice lollies
ready_meals: ready meal, ready meals, microwave meal, meal deal, sandwich, sandwiches, wrap, salad box, sushi, soup, quiche, pizza, lasagne, curry, pie, lunch, dinner, tonight's dinner, quick dinner, easy meal
drinks_soft: water, sparkling water, still water, mineral water, juice, orange juice, apple juice, cranberry juice, smoothie, squash, cordial, lemonade, cola, coke, pepsi, soda, fizzy drink, soft drink, energy drink, iced tea, tonic, tonic water, ginger ale, kombucha
drinks_hot: coffee, instant coffee, ground coffee, coffee beans, coffee pods, capsules, decaf, espresso, tea, tea bags, green tea, herbal tea, fruit tea, chai, hot chocolate, cocoa, milk
alcohol_more: beer, lager, ale, ipa, stout, cider, wine, red wine, white wine, rose, prosecco, champagne, sparkling wine, spirits, vodka, gin, rum, whisky, whiskey, bourbon, tequila, brandy, liqueur, vermouth, mixer, alcohol free, non alcoholic
snacks_more: crisps, chips, tortilla chips, nachos, popcorn, pretzels, nuts, peanuts, cashews, almonds, trail mix, crackers, rice cakes, cereal bar, protein bar, jerky, olives, dip, dips, hummus, salsa
confectionery: chocolate, chocolates, chocolate bar, dark chocolate, milk chocolate, white chocolate, sweets, candy, gummy, gummies, jelly beans, mints, chewing gum, gum, lollipop, toffee, fudge, marshmallows, liquorice, licorice
dietary: gluten free, dairy free, lactose free, vegan, vegetarian, plant based, sugar free, low fat, low sugar, organic, keto, low carb, high protein, nut free, halal, kosher, diabetic
world_food: italian, mexican, indian, chinese, thai, japanese, asian, curry, tacos, burrito, noodles, sushi, soy sauce, coconut milk, rice noodles, tortillas, salsa, spices
occasion_gift: gift, gifts, present, presents, birthday, anniversary, wedding, christmas, easter, valentine, valentines, mothers day, fathers day, thank you gift, housewarming, teacher gift, secret santa, stocking filler, gift card, gift box, gift bag, wrapping paper, card, greeting card, hamper
for_people: for my mum, for my mom, for my dad, for my wife, for my husband, for my girlfriend, for my boyfriend, for a child, for kids, for a baby, for a teenager, for him, for her, for grandma, for grandpa, for a friend, for a colleague
detect: detector, detectors, stud finder, stud detector, cable detector, wire detector, pipe detector, wall scanner, find cables, cables wall, wires wall, pipes wall, studs, joists, detect, detecting, scanner
assembly: assemble, assembling, assembly, furniture, flat pack, flatpack, ikea, allen key, allen keys, hex key, hex keys, screwdriver, screwdrivers, screws, fixings, tools
mounting: put up, mount, mounting, hang, hanging, fix to wall, wall mount, shelves, shelf, shelving, bracket, brackets, shelf brackets, wall plugs, rawlplugs, screws, drill, anchors, tv mount, curtain pole
straightness: straight, level, levelling, leveling, align, aligned, alignment, spirit level, laser level, bubble level, plumb, square, crooked, wonky, hang straight
trade: trade, trade account, trade accounts, trade discount, tradesman, tradesmen, tradespeople, builder, builders, contractor, contractors, plumber, electrician, decorator, professional, professionals, business account, bulk discount
household_misc: matches, matchsticks, lighter, lighters, candles, tea lights, firelighters, string, twine, tape, bin bags, foil, batteries, light bulbs, household, home essentials
party_food: party, parties, guests, crisps, snacks, nibbles, dips, drinks, soda, cola, lemonade, beer, wine, prosecco, cake, sausage rolls, pizza, ice cream, napkins, paper plates, cups
smoothie: smoothie, smoothies, blend, blender, fruit, banana, bananas, berries, frozen berries, frozen fruit, yogurt, yoghurt, milk, oat milk, juice, spinach, protein powder
bbq_food: bbq, barbecue, grill, grilling, burgers, burger, burger buns, buns, sausages, hot dogs, chicken, chicken breast, steak, kebabs, corn on the cob, charcoal, ketchup, relish, coleslaw
protein_food: protein, high protein, eggs, chicken, meat, fish, tuna, yogurt, greek yogurt, skyr, cottage cheese, milk, beans, lentils, nuts, peanut butter, protein bar, protein powder, tofu
quick_meals: quick dinner, easy dinner, quick meal, easy meal, tonight, dinner, tea time, oven chips, chips, fries, frozen pizza, pizza, fish fingers, ready meal, pasta, noodles, soup, frozen
bakery_extra: strudel, danish, danish pastry, pastry, pastries, cake, cakes, lemon cake, sponge cake, cheesecake, tart, pie, pies, croissant, doughnut, muffin, cookie, bun, buns, loaf, bread, bakery, baked goods
garden_extra: watering can, watering, garden, gardening, spade, shovel, rake, hoe, trowel, secateurs, pruning, prune, roses, plants, lawn, hedge, compost, soil, seeds, hose, outdoor

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
			var parts []string
			for _, x := range Words(w) {
				if !functionWords[x.Norm] {
					parts = append(parts, x.Stem)
				}
			}
			key := strings.Join(parts, " ")
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

// ConceptDigest is the lexicon's text: what the embedding's model name is derived from.
func ConceptDigest() string { return conceptLexicon }
