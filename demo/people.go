package demo

import (
	"time"

	"github.com/lienthong/lienthong/forms"
)

// people hands out form indexes by commune, so that every seeded dossier's
// form belongs to its commune and nobody is born to the same couple twice or
// dies twice. The first birth and death of each commune are left alone: they
// are the console's samples (forms.Forms.IndexIn).
type people struct {
	forms  *forms.Forms
	births map[string][]int
	deaths map[string][]int
}

func newPeople(forms *forms.Forms) *people {
	p := &people{forms: forms, births: map[string][]int{}, deaths: map[string][]int{}}
	at := time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)
	for i := range forms.Births() {
		c := forms.Birth(i, at, "").GetCommuneCode()
		p.births[c] = append(p.births[c], i)
	}
	for i := range forms.Deaths() {
		c := forms.Death(i, at, "", false).GetForm().GetCommuneCode()
		p.deaths[c] = append(p.deaths[c], i)
	}
	for c := range p.births {
		p.births[c] = p.births[c][1:]
	}
	for c := range p.deaths {
		p.deaths[c] = p.deaths[c][1:]
	}
	return p
}

// liveShare is how many of each live commune's people the live dossiers
// keep for themselves, first in line.
const liveShare = 12

// live returns the people of a live commune the live dossiers use, first in line.
func (p *people) live(commune string, birth bool) []int {
	list := p.deaths[commune]
	if birth {
		list = p.births[commune]
	}
	return list[:min(liveShare, len(list))]
}

// history returns the people of commune the history may use.
func (p *people) history(commune string, birth bool) []int {
	list := p.deaths[commune]
	if birth {
		list = p.births[commune]
	}
	for _, c := range LiveCommunes {
		if c == commune {
			return list[min(liveShare, len(list)):]
		}
	}
	return list
}
