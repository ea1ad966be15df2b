package waiver

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/hubsecrets/packer-plugin-jupyterhub/internal/report"
)

// Apply returns copies of reports with the findings s waives on the day of
// now marked Waived (the first waiver in the file that matches and has
// not expired), summaries recounted, and each report's Warnings extended
// with what concerns it; and every warning once, for stderr:
//   - an expired waiver that matches a finding: it no longer waives it
//     (on the report of that finding);
//   - a waiver that matches no finding, expired or not, or names a rule
//     no report evaluated (on every report).
//
// A nil Set returns reports unchanged. The caller's reports are not
// modified.
func (s *Set) Apply(reports []report.Report, now time.Time) ([]report.Report, []string) {
	out := make([]report.Report, len(reports))
	copy(out, reports)
	if s == nil || len(s.Waivers) == 0 {
		return out, nil
	}
	used := make([]bool, len(s.Waivers))
	evaluated := map[string]bool{}
	anyRules := false
	var all []string
	add := func(r *report.Report, msg string) {
		r.Warnings = append(slices.Clone(r.Warnings), msg)
		if !slices.Contains(all, msg) {
			all = append(all, msg)
		}
	}
	for ri := range out {
		r := &out[ri]
		for _, rule := range r.Rules {
			evaluated[rule.ID] = true
			anyRules = true
		}
		r.Findings = slices.Clone(r.Findings)
		r.Rules = slices.Clone(r.Rules) // Sort orders them
		// Per expired waiver, the findings of this report it would waive.
		stale := map[int][]string{}
		for fi := range r.Findings {
			f := &r.Findings[fi]
			if f.Waived != nil {
				continue
			}
			for wi, w := range s.Waivers {
				if !w.Matches(f.ID, f.Path, r.Host) {
					continue
				}
				used[wi] = true
				if w.Expired(now) {
					stale[wi] = append(stale[wi], f.ID+" at "+f.Path)
					continue
				}
				f.Waived = &report.Waived{Reason: w.Reason, Expires: w.Expires, Waiver: w.Entry}
				break
			}
		}
		for _, wi := range slices.Sorted(maps.Keys(stale)) {
			w := s.Waivers[wi]
			where := ""
			if r.Host != "" {
				where = " on " + r.Host
			}
			add(r, fmt.Sprintf("%s expired on %s and no longer waives %s%s: renew it with a new date, or fix what it waived",
				w.describe(), w.Expires, strings.Join(stale[wi], ", "), where))
		}
	}
	// Run-wide: waivers that matched nothing anywhere.
	var unused []string
	for wi, w := range s.Waivers {
		switch {
		case used[wi]:
		case anyRules && !evaluated[w.ID]:
			unused = append(unused, fmt.Sprintf("%s: no rule %s was evaluated: check the id (a site rule needs its --policy)", w.describe(), w.ID))
		case w.Expired(now):
			unused = append(unused, fmt.Sprintf("%s expired on %s and matches no finding: remove it", w.describe(), w.Expires))
		default:
			unused = append(unused, fmt.Sprintf("%s matches no finding: remove it, or fix its id, path or host", w.describe()))
		}
	}
	for _, msg := range unused {
		for ri := range out {
			add(&out[ri], msg)
		}
		if !slices.Contains(all, msg) {
			all = append(all, msg)
		}
	}
	for ri := range out {
		out[ri].Sort()
	}
	return out, all
}
