// Prints, as JSON, every series selector each rule of a Prometheus rules file reads (metric name
// and label matchers), parsed with Prometheus's own rule and PromQL parsers. The tests compare them
// with what the services export; a hand-rolled PromQL tokenizer would miss what the parser sees.
package main

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"os"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/rulefmt"
	"github.com/prometheus/prometheus/promql/parser"
)

type matcher struct {
	Label string `json:"label"`
	Op    string `json:"op"`
	Value string `json:"value"`
}

type selector struct {
	Metric   string    `json:"metric"`
	Matchers []matcher `json:"matchers"`
}

type rule struct {
	Group     string     `json:"group"`
	Alert     string     `json:"alert,omitempty"`
	Record    string     `json:"record,omitempty"`
	Selectors []selector `json:"selectors"`
}

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: rule-selectors RULES_FILE...")
		os.Exit(2)
	}
	p := parser.NewParser(parser.Options{})
	out := []rule{}
	for _, file := range os.Args[1:] {
		groups, errs := rulefmt.ParseFile(file, false, model.UTF8Validation, p, slog.Default())
		if len(errs) > 0 {
			for _, err := range errs {
				fmt.Fprintln(os.Stderr, err)
			}
			os.Exit(1)
		}
		for _, group := range groups.Groups {
			for _, r := range group.Rules {
				expr, err := p.ParseExpr(r.Expr)
				if err != nil {
					fmt.Fprintf(os.Stderr, "%s: %s%s: %v\n", file, r.Alert, r.Record, err)
					os.Exit(1)
				}
				entry := rule{Group: group.Name, Alert: r.Alert, Record: r.Record, Selectors: []selector{}}
				parser.Inspect(expr, func(node parser.Node, _ []parser.Node) error {
					vs, ok := node.(*parser.VectorSelector)
					if !ok {
						return nil
					}
					s := selector{Metric: vs.Name, Matchers: []matcher{}}
					for _, m := range vs.LabelMatchers {
						if m.Name == labels.MetricName {
							continue
						}
						s.Matchers = append(s.Matchers, matcher{Label: m.Name, Op: m.Type.String(), Value: m.Value})
					}
					entry.Selectors = append(entry.Selectors, s)
					return nil
				})
				out = append(out, entry)
			}
		}
	}
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", "  ")
	if err := enc.Encode(out); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
