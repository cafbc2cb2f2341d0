package main

import (
	"encoding/json"
	"fmt"
	"reflect"
	"regexp"
	"strconv"
	"strings"
)

// variable is `${step.path}` or `${input.name}`.
var variable = regexp.MustCompile(`\$\{([^}]+)\}`)

// lookup returns the value at a dotted path (a number indexes a list).
func lookup(value any, path string) (any, bool) {
	for _, key := range strings.Split(path, ".") {
		switch node := value.(type) {
		case map[string]any:
			next, ok := node[key]
			if !ok {
				return nil, false
			}
			value = next
		case []any:
			index, err := strconv.Atoi(key)
			if err != nil || index < 0 || index >= len(node) {
				return nil, false
			}
			value = node[index]
		default:
			return nil, false
		}
	}
	return value, true
}

// substitute replaces every variable in the strings of value.
func substitute(value any, inputs map[string]any, replies map[string]any) (any, error) {
	switch node := value.(type) {
	case string:
		var failed error
		replaced := variable.ReplaceAllStringFunc(node, func(found string) string {
			reference := found[2 : len(found)-1]
			name, path, _ := strings.Cut(reference, ".")
			var root any = replies[name]
			if name == "input" {
				root = inputs
			}
			resolved, ok := lookup(root, path)
			if !ok {
				failed = fmt.Errorf("unresolved %s", found)
				return found
			}
			if text, isText := resolved.(string); isText {
				return text
			}
			encoded, _ := json.Marshal(resolved)
			return string(encoded)
		})
		return replaced, failed
	case []any:
		out := make([]any, len(node))
		for i, item := range node {
			replaced, err := substitute(item, inputs, replies)
			if err != nil {
				return nil, err
			}
			out[i] = replaced
		}
		return out, nil
	case map[string]any:
		out := make(map[string]any, len(node))
		for key, item := range node {
			replaced, err := substitute(item, inputs, replies)
			if err != nil {
				return nil, err
			}
			out[key] = replaced
		}
		return out, nil
	}
	return value, nil
}

// present: set and not empty (proto3 JSON leaves unset fields out).
func present(value any, found bool) bool {
	if !found || value == nil {
		return false
	}
	switch node := value.(type) {
	case string:
		return node != ""
	case []any:
		return len(node) > 0
	case map[string]any:
		return len(node) > 0
	}
	return true
}

// checkResponse applies a step's response checks to the proto3 JSON of the reply.
func checkResponse(reply any, checks []map[string]any) error {
	for _, check := range checks {
		path, _ := check["path"].(string)
		found, ok := lookup(reply, path)
		if want, has := check["equals"]; has && (!ok || !reflect.DeepEqual(found, want)) {
			return fmt.Errorf("%s is %s, expected %s", path, show(found, ok), show(want, true))
		}
		if other, has := check["notEquals"]; has && ok && reflect.DeepEqual(found, other) {
			return fmt.Errorf("%s is %s, expected anything else", path, show(found, ok))
		}
		if want, has := check["present"]; has && present(found, ok) != want {
			return fmt.Errorf("%s is %s, expected present=%v", path, show(found, ok), want)
		}
		if want, has := check["length"]; has {
			list, isList := found.([]any)
			if !isList || float64(len(list)) != want {
				return fmt.Errorf("%s is %s, expected %v items", path, show(found, ok), want)
			}
		}
	}
	return nil
}

func show(value any, found bool) string {
	if !found {
		return "missing"
	}
	encoded, _ := json.Marshal(value)
	return string(encoded)
}
