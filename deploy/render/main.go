// Command urumi-render renders store charts as `helm template` does, for as
// long as it runs: one JSON request per line on stdin, one JSON answer per line
// on stdout. A provisioner keeps one running instead of starting helm for every
// store, which cost ≈ 80 ms of CPU per render, most of it starting up and
// loading the chart; here the chart is loaded once and rendered by Helm's own
// install action (client only, dry run), so the objects are helm template's.
// They come back as JSON, converted as Kubernetes' own clients read YAML
// (sigs.k8s.io/yaml), which the provisioner decodes far faster than YAML.
//
// Protocol, one JSON document per line each way:
//
//	request: {"chart": DIR, "release": NAME, "namespace": NS, "baseValues": {...}, "valueFiles": [FILE...], "values": {...}}
//	answer:  {"objects": [OBJECT...]} in the chart's output order, or {"error": MESSAGE}
//
// Layered as helm's --values flags in this order: the base values (a release's
// pins), the files (an operator's), the values (the store's own), each over the
// one before; an error is helm's own message.
package main

import (
	"bufio"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"

	"helm.sh/helm/v3/pkg/action"
	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/chart/loader"
	"sigs.k8s.io/yaml"
)

type request struct {
	Chart      string          `json:"chart"`
	Release    string          `json:"release"`
	Namespace  string          `json:"namespace"`
	BaseValues json.RawMessage `json:"baseValues"`
	ValueFiles []string        `json:"valueFiles"`
	Values     json.RawMessage `json:"values"`
}

type answer struct {
	Objects []json.RawMessage `json:"objects,omitempty"`
	Error   string            `json:"error,omitempty"`
}

// separator splits a stream of YAML documents, as helm's releaseutil does.
var separator = regexp.MustCompile(`(?:^|\s*\n)---\s*`)

// loaded is a chart and the stamp of the files it was loaded from.
type loaded struct {
	stamp string
	chart *chart.Chart
}

type renderer struct {
	charts  map[string]loaded
	schemas schemas
}

func main() {
	r := &renderer{charts: map[string]loaded{}, schemas: schemas{}}
	in := json.NewDecoder(bufio.NewReaderSize(os.Stdin, 1<<16))
	out := json.NewEncoder(os.Stdout)
	out.SetEscapeHTML(false)
	for {
		var req request
		if err := in.Decode(&req); err == io.EOF {
			return
		} else if err != nil {
			fmt.Fprintf(os.Stderr, "urumi-render: unreadable request: %v\n", err)
			os.Exit(2)
		}
		objects, err := r.render(req)
		reply := answer{Objects: objects}
		if err != nil {
			reply = answer{Error: err.Error()}
		}
		if err := out.Encode(reply); err != nil {
			fmt.Fprintf(os.Stderr, "urumi-render: cannot answer: %v\n", err)
			os.Exit(2)
		}
	}
}

func (r *renderer) render(req request) ([]json.RawMessage, error) {
	chrt, err := r.chart(req.Chart)
	if err != nil {
		return nil, err
	}
	vals, err := mergedValues(req.BaseValues, req.ValueFiles, req.Values)
	if err != nil {
		return nil, err
	}
	if err := r.schemas.validate(chrt, vals); err != nil {
		return nil, err
	}
	// What `helm template NAME CHART --namespace NS` sets (cmd/helm/template.go),
	// but the schema: validated above, compiled once.
	install := action.NewInstall(&action.Configuration{Log: func(string, ...interface{}) {}})
	install.DryRun = true
	install.DryRunOption = "true"
	install.ClientOnly = true
	install.Replace = true
	install.ReleaseName = req.Release
	install.Namespace = req.Namespace
	install.SkipSchemaValidation = true
	rel, err := install.Run(chrt, vals)
	if err != nil {
		return nil, err
	}
	docs := separator.Split(rel.Manifest, -1)
	for _, hook := range rel.Hooks {
		docs = append(docs, hook.Manifest)
	}
	return objectsOf(docs)
}

// objectsOf converts each document to JSON, leaving out empty ones.
func objectsOf(docs []string) ([]json.RawMessage, error) {
	objects := make([]json.RawMessage, 0, len(docs))
	for _, doc := range docs {
		object, err := yaml.YAMLToJSON([]byte(doc))
		if err != nil {
			return nil, fmt.Errorf("the chart rendered invalid YAML: %w", err)
		}
		if string(object) != "null" {
			objects = append(objects, object)
		}
	}
	return objects, nil
}

// chart loads dir once, and again whenever one of its files changed.
func (r *renderer) chart(dir string) (*chart.Chart, error) {
	stamp, err := stampOf(dir)
	if err != nil {
		return nil, err
	}
	if known, ok := r.charts[dir]; ok && known.stamp == stamp {
		return known.chart, nil
	}
	chrt, err := loader.Load(dir)
	if err != nil {
		return nil, err
	}
	if known, ok := r.charts[dir]; ok {
		delete(r.schemas, known.chart)
	}
	r.charts[dir] = loaded{stamp: stamp, chart: chrt}
	return chrt, nil
}

// stampOf digests every file's path, size and modification time under dir.
func stampOf(dir string) (string, error) {
	digest := sha256.New()
	err := filepath.WalkDir(dir, func(path string, entry fs.DirEntry, err error) error {
		if err != nil || entry.IsDir() {
			return err
		}
		info, err := entry.Info()
		if err != nil {
			return err
		}
		fmt.Fprintf(digest, "%s %d %d\n", path, info.Size(), info.ModTime().UnixNano())
		return nil
	})
	return fmt.Sprintf("%x", digest.Sum(nil)), err
}

// mergedValues layers the base, the files, then the request's own values, as
// helm's `--values` flags do: each read as YAML (JSON is YAML), maps merged deeply.
func mergedValues(base json.RawMessage, files []string, own json.RawMessage) (map[string]interface{}, error) {
	vals, err := layer(map[string]interface{}{}, base, "the base values")
	if err != nil {
		return nil, err
	}
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			return nil, err
		}
		if vals, err = layer(vals, data, file); err != nil {
			return nil, err
		}
	}
	return layer(vals, own, "the store's values")
}

// layer merges the YAML document data, if any, over vals.
func layer(vals map[string]interface{}, data []byte, what string) (map[string]interface{}, error) {
	if len(data) == 0 {
		return vals, nil
	}
	over := map[string]interface{}{}
	if err := yaml.Unmarshal(data, &over); err != nil {
		return nil, fmt.Errorf("failed to parse %s: %w", what, err)
	}
	return merge(vals, over), nil
}

// merge is b over a: nested maps merged, anything else replaced.
func merge(a, b map[string]interface{}) map[string]interface{} {
	out := make(map[string]interface{}, len(a))
	for k, v := range a {
		out[k] = v
	}
	for k, v := range b {
		if bm, ok := v.(map[string]interface{}); ok {
			if am, ok := out[k].(map[string]interface{}); ok {
				out[k] = merge(am, bm)
				continue
			}
		}
		out[k] = v
	}
	return out
}
