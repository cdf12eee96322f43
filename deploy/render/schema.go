package main

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/chartutil"
)

// Helm compiles a chart's values.schema.json for every render: a quarter of a
// render's CPU. schemas compiles each chart's once (a changed chart is a new
// *chart.Chart) and validates as Helm's chartutil.ValidateAgainstSchema does:
// the coalesced values, the chart then each subchart given values, in Helm's
// words. Schemas load only local references (file:), as our charts need.
type schemas map[*chart.Chart]*jsonschema.Schema

// validate returns Helm's own refusal, or nil.
func (s schemas) validate(chrt *chart.Chart, given map[string]interface{}) error {
	vals, err := chartutil.CoalesceValues(chrt, given)
	if err != nil {
		return err
	}
	var refusal strings.Builder
	if err := s.check(chrt, vals, &refusal); err != nil {
		return err
	}
	if refusal.Len() > 0 {
		return fmt.Errorf("values don't meet the specifications of the schema(s) in the following chart(s):\n%s", refusal.String())
	}
	return nil
}

func (s schemas) check(chrt *chart.Chart, vals map[string]interface{}, refusal *strings.Builder) error {
	if chrt.Schema != nil {
		compiled, err := s.compiled(chrt)
		if err != nil {
			return err
		}
		if err := compiled.Validate(vals); err != nil {
			const prefix = "jsonschema validation failed with 'file:///values.schema.json#'\n"
			fmt.Fprintf(refusal, "%s:\n%s\n", chrt.Name(), strings.TrimPrefix(err.Error(), prefix))
		}
	}
	for _, sub := range chrt.Dependencies() {
		raw, given := vals[sub.Name()]
		if !given || raw == nil {
			continue
		}
		subVals, ok := raw.(map[string]interface{})
		if !ok {
			fmt.Fprintf(refusal, "%s:\ninvalid type for values: expected object (map), got %T\n", sub.Name(), raw)
			continue
		}
		if err := s.check(sub, subVals, refusal); err != nil {
			return err
		}
	}
	return nil
}

func (s schemas) compiled(chrt *chart.Chart) (*jsonschema.Schema, error) {
	if known, ok := s[chrt]; ok {
		return known, nil
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(chrt.Schema))
	if err != nil {
		return nil, fmt.Errorf("unable to validate schema: %w", err)
	}
	compiler := jsonschema.NewCompiler()
	compiler.UseLoader(jsonschema.SchemeURLLoader{"file": jsonschema.FileLoader{}})
	if err := compiler.AddResource("file:///values.schema.json", doc); err != nil {
		return nil, err
	}
	compiled, err := compiler.Compile("file:///values.schema.json")
	if err != nil {
		return nil, err
	}
	s[chrt] = compiled
	return compiled, nil
}
