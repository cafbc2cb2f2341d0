package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
)

const deadline = 10 * time.Second

type step struct {
	Name    string  `json:"name"`
	Call    string  `json:"call"`
	Token   *string `json:"token"`
	Request any     `json:"request"`
	Expect  any     `json:"expect"`
}

type expectation struct {
	Code       string           `json:"code"`
	Response   []map[string]any `json:"response"`
	BadRequest []violation      `json:"badRequest"`
	RetryInfo  *struct {
		MinDelaySeconds float64 `json:"minDelaySeconds"`
	} `json:"retryInfo"`
}

type violation struct {
	Field  string `json:"field"`
	Reason string `json:"reason"`
}

type config struct {
	Targets map[string]string `json:"targets"`
	Inputs  map[string]any    `json:"inputs"`
}

func readJSON(file string, into any) error {
	data, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	return json.Unmarshal(data, into)
}

func session(scenarioFile, configFile string) ([]outcome, error) {
	var scenario struct {
		Steps []step `json:"steps"`
	}
	var settings config
	if err := readJSON(scenarioFile, &scenario); err != nil {
		return nil, err
	}
	if err := readJSON(configFile, &settings); err != nil {
		return nil, err
	}
	conns := map[string]*grpc.ClientConn{}
	for service, target := range settings.Targets {
		conn, err := grpc.NewClient(target, grpc.WithTransportCredentials(insecure.NewCredentials()))
		if err != nil {
			return nil, err
		}
		defer conn.Close()
		conns[service] = conn
	}
	replies := map[string]any{}
	var outcomes []outcome
	for _, s := range scenario.Steps {
		outcomes = append(outcomes, outcome{s.Name, run(s, conns, settings.Inputs, replies)})
	}
	return outcomes, nil
}

// run makes one step's call and checks its outcome; the reply is kept for later steps.
func run(s step, conns map[string]*grpc.ClientConn, inputs, replies map[string]any) error {
	send, known := calls[s.Call]
	service, _, _ := strings.Cut(s.Call, "/")
	if !known || conns[service] == nil {
		return fmt.Errorf("no client or target for %s", s.Call)
	}
	request, err := substitute(s.Request, inputs, replies)
	if err != nil {
		return err
	}
	var expect expectation
	if err := resubstitute(s.Expect, inputs, replies, &expect); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	if s.Token != nil {
		token, err := substitute(*s.Token, inputs, replies)
		if err != nil {
			return err
		}
		ctx = metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+token.(string))
	}
	body, _ := json.Marshal(request)
	reply, err := send(ctx, conns[service], body)
	var want codes.Code
	if err := want.UnmarshalJSON([]byte(strconv.Quote(expect.Code))); err != nil {
		return err
	}
	if got := status.Code(err); got != want {
		return fmt.Errorf("status %v (%v), expected %s", got, status.Convert(err).Message(), expect.Code)
	}
	if err != nil {
		return checkError(status.Convert(err), expect)
	}
	encoded, err := protojson.Marshal(reply)
	if err != nil {
		return err
	}
	var asJSON any
	if err := json.Unmarshal(encoded, &asJSON); err != nil {
		return err
	}
	replies[s.Name] = asJSON
	return checkResponse(asJSON, expect.Response)
}

// resubstitute fills in an expectation's variables, then decodes it.
func resubstitute(raw any, inputs, replies map[string]any, into *expectation) error {
	filled, err := substitute(raw, inputs, replies)
	if err != nil {
		return err
	}
	encoded, _ := json.Marshal(filled)
	return json.Unmarshal(encoded, into)
}

// checkError compares the google.rpc details of an error status with the expectation.
func checkError(st *status.Status, expect expectation) error {
	var got []violation
	var delays []float64
	for _, detail := range st.Details() {
		switch d := detail.(type) {
		case *errdetails.BadRequest:
			for _, v := range d.GetFieldViolations() {
				got = append(got, violation{v.GetField(), v.GetReason()})
			}
		case *errdetails.RetryInfo:
			delays = append(delays, d.GetRetryDelay().AsDuration().Seconds())
		}
	}
	if expect.BadRequest != nil && !sameViolations(got, expect.BadRequest) {
		return fmt.Errorf("field violations %v, expected %v", got, expect.BadRequest)
	}
	if expect.RetryInfo != nil && (len(delays) == 0 || delays[0] < expect.RetryInfo.MinDelaySeconds) {
		return fmt.Errorf("retry delays %v, expected one of at least %v s", delays, expect.RetryInfo.MinDelaySeconds)
	}
	return nil
}

// sameViolations compares two lists of violations as multisets.
func sameViolations(got, want []violation) bool {
	if len(got) != len(want) {
		return false
	}
	count := map[violation]int{}
	for _, v := range got {
		count[v]++
	}
	for _, v := range want {
		count[v]--
		if count[v] < 0 {
			return false
		}
	}
	return true
}
