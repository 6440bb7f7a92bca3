package lang

// functionWords carry no content: articles, pronouns, auxiliaries, prepositions, conjunctions.
// They are skipped when texts are embedded or searched.
var functionWords = set(`a an the and or but nor of for to in on at by from with without into onto
	about as than then so too very just also is are was were be been being am do does did doing
	done have has had having i me my mine we us our ours you your yours he him his she her hers it
	its they them their theirs this that these those there here what which who whom whose how when
	where why whether if any some all each every no not can could would should will shall may might
	must please hi hello hey thanks thank ok yes yeah yep dont doesnt cannot isnt arent wasnt
	one ones thing things stuff something anything kind sort type like get got give let
	now still again really maybe perhaps well oh um uh hmm actually then there their
	im ive ill id youre theyre thats whats wheres hows theres its lets dont doesnt didnt isnt arent
	wasnt werent wont cant couldnt wouldnt shouldnt havent hasnt hadnt whos whatre wheres heres
	ya yo mate pal guys folks lol haha plz pls thx cheers wanna gonna gotta lemme gimme own`)

func set(words string) map[string]bool {
	m := map[string]bool{}
	word := ""
	for _, r := range words + " " {
		if r == ' ' || r == '\n' || r == '\t' {
			if word != "" {
				m[word] = true
			}
			word = ""
			continue
		}
		word += string(r)
	}
	return m
}

// IsFunctionWord reports whether a normalised word (Word.Norm) carries no content for retrieval.
func IsFunctionWord(norm string) bool { return functionWords[norm] }
