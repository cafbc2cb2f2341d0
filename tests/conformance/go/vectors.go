package main

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"reflect"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"

	// The packages of every type a vector may name register themselves on import.
	_ "github.com/acme/platform/gen/go"
	_ "github.com/acme/platform/gen/go/acme/options/v1"
)

type vector struct {
	Name   string          `json:"name"`
	Type   string          `json:"type"`
	Binary string          `json:"binary"`
	JSON   json.RawMessage `json:"json"`
}

func vectors(file string) ([]outcome, error) {
	var data struct {
		Vectors []vector `json:"vectors"`
	}
	if err := readJSON(file, &data); err != nil {
		return nil, err
	}
	var outcomes []outcome
	for _, v := range data.Vectors {
		outcomes = append(outcomes, outcome{v.Name, roundTrip(v)})
	}
	return outcomes, nil
}

// roundTrip decodes the vector from binary and from JSON and re-encodes each both ways.
func roundTrip(v vector) error {
	kind, err := protoregistry.GlobalTypes.FindMessageByName(protoreflect.FullName(v.Type))
	if err != nil {
		return err
	}
	binary, err := hex.DecodeString(v.Binary)
	if err != nil {
		return err
	}
	var wantJSON any
	if err := json.Unmarshal(v.JSON, &wantJSON); err != nil {
		return err
	}
	fromBinary, fromJSON := kind.New().Interface(), kind.New().Interface()
	if err := proto.Unmarshal(binary, fromBinary); err != nil {
		return fmt.Errorf("binary: %w", err)
	}
	if err := protojson.Unmarshal(v.JSON, fromJSON); err != nil {
		return fmt.Errorf("json: %w", err)
	}
	for _, decoded := range []struct {
		source  string
		message proto.Message
	}{{"binary", fromBinary}, {"json", fromJSON}} {
		encoded, err := proto.Marshal(decoded.message)
		if err != nil {
			return err
		}
		if !bytes.Equal(encoded, binary) {
			return fmt.Errorf("%s -> binary gave %x, expected %s", decoded.source, encoded, v.Binary)
		}
		text, err := protojson.Marshal(decoded.message)
		if err != nil {
			return err
		}
		var gotJSON any
		if err := json.Unmarshal(text, &gotJSON); err != nil {
			return err
		}
		if !reflect.DeepEqual(gotJSON, wantJSON) {
			return fmt.Errorf("%s -> json gave %s", decoded.source, text)
		}
	}
	return nil
}
