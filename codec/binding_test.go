package codec

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"
)

var (
	testNow     = time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)
	testBinding = Binding{WorkflowID: "corso-restore-exchange-0a1b2c3d4e5f", Purpose: "restore", Expires: testNow.Add(time.Hour)}
)

type testCreds struct{ Passphrase string }

// TestSealedSecretOpensOnlyForItsRequest: a sealed secret opens for the
// workflow id and purpose it was sealed for, before its expiry, and is
// refused, with a reason, for any other request, after its expiry, and
// when its binding was edited to match another request.
func TestSealedSecretOpensOnlyForItsRequest(t *testing.T) {
	s, _ := NewSealer(mustKey(t))
	sealed, err := s.Seal(testCreds{"hunter2"}, testBinding)
	if err != nil {
		t.Fatal(err)
	}
	var got testCreds
	if err := s.Open(sealed, testBinding, testNow, &got); err != nil || got.Passphrase != "hunter2" {
		t.Fatalf("the right request: %+v %v", got, err)
	}
	if b, err := BindingOf(sealed); err != nil || b.WorkflowID != testBinding.WorkflowID || b.Purpose != "restore" || !b.Expires.Equal(testBinding.Expires) {
		t.Fatalf("binding read back: %+v %v", b, err)
	}

	other := testBinding
	other.WorkflowID = "corso-restore-exchange-ffffffffffff"
	purpose := testBinding
	purpose.Purpose = "delete"
	for _, c := range []struct {
		what string
		want Binding
		now  time.Time
		err  error
	}{
		{"another workflow id", other, testNow, ErrOtherRequest},
		{"no workflow id (outside a request)", Binding{Purpose: "restore"}, testNow, ErrOtherRequest},
		{"another purpose", purpose, testNow, ErrOtherPurpose},
		{"after its expiry", testBinding, testBinding.Expires, ErrExpired},
		{"long after its expiry", testBinding, testNow.Add(30 * 24 * time.Hour), ErrExpired},
	} {
		var v testCreds
		err := s.Open(sealed, c.want, c.now, &v)
		if !errors.Is(err, c.err) || !errors.Is(err, ErrRefused) || v.Passphrase != "" {
			t.Errorf("%s: want %v, got %v (opened %+v)", c.what, c.err, err, v)
		}
	}

	// The binding travels in the clear: edit it to name another request
	// (or a later expiry, or another purpose) and the secret no longer
	// opens, whatever the reader asks for.
	for what, edit := range map[string]func(*bindingHeader){
		"workflow id": func(h *bindingHeader) { h.WorkflowID = other.WorkflowID },
		"purpose":     func(h *bindingHeader) { h.Purpose = "delete" },
		"expiry":      func(h *bindingHeader) { h.Expires += 3600 * 24 * 365 },
	} {
		forged := reheader(t, sealed, edit)
		b, err := BindingOf(forged)
		if err != nil {
			t.Fatal(err)
		}
		var v testCreds
		if err := s.Open(forged, b, testNow, &v); !errors.Is(err, ErrTampered) || v.Passphrase != "" {
			t.Errorf("edited %s: want %v, got %v (opened %+v)", what, ErrTampered, err, v)
		}
	}
	// A flipped ciphertext bit is refused too.
	flipped := bytes.Clone(sealed)
	flipped[len(flipped)-1] ^= 1
	if err := s.Open(flipped, testBinding, testNow, &got); !errors.Is(err, ErrTampered) {
		t.Errorf("flipped ciphertext: %v", err)
	}
}

// reheader returns sealed with its binding header rewritten by edit and
// the ciphertext kept.
func reheader(t *testing.T, sealed Sealed, edit func(*bindingHeader)) Sealed {
	t.Helper()
	hdr, _, ct, err := split(sealed)
	if err != nil {
		t.Fatal(err)
	}
	var h bindingHeader
	if err := json.Unmarshal(hdr, &h); err != nil {
		t.Fatal(err)
	}
	edit(&h)
	nh, _ := json.Marshal(h)
	out := binary.AppendUvarint([]byte{sealedVersion}, uint64(len(nh)))
	return append(append(out, nh...), ct...)
}

// TestScheduleSecretOpensOnlyInItsRuns: a secret sealed for a schedule has
// no expiry and opens in any request whose caller proved that schedule
// started it (want.Schedule), whatever Temporal named the run; it is
// refused in a request no schedule started (a manual start with a copy),
// in one another schedule started, for another purpose, and when its
// binding was edited.
func TestScheduleSecretOpensOnlyInItsRuns(t *testing.T) {
	s, _ := NewSealer(mustKey(t))
	bound := Binding{Schedule: "corso-backup-exchange-nightly", Purpose: "backup"}
	sealed, err := s.Seal(testCreds{"hunter2"}, bound)
	if err != nil {
		t.Fatal(err)
	}
	if b, err := BindingOf(sealed); err != nil || b != bound {
		t.Fatalf("binding read back: %+v %v, want %+v", b, err, bound)
	}
	run := Binding{WorkflowID: "corso-backup-exchange-nightly-2031-05-01T04:00:00Z", Schedule: bound.Schedule, Purpose: "backup"}
	var got testCreds
	if err := s.Open(sealed, run, testNow.AddDate(5, 0, 0), &got); err != nil || got.Passphrase != "hunter2" {
		t.Fatalf("a run of the schedule, five years on: %+v %v", got, err)
	}
	manual := run
	manual.Schedule = ""
	otherSchedule := run
	otherSchedule.Schedule = "corso-backup-exchange-other"
	purpose := run
	purpose.Purpose = "restore"
	for _, c := range []struct {
		what string
		want Binding
		err  error
	}{
		{"a request no schedule started", manual, ErrNotScheduled},
		{"a request another schedule started", otherSchedule, ErrNotScheduled},
		{"another purpose", purpose, ErrOtherPurpose},
	} {
		var v testCreds
		if err := s.Open(sealed, c.want, testNow, &v); !errors.Is(err, c.err) || v.Passphrase != "" {
			t.Errorf("%s: want %v, got %v (opened %+v)", c.what, c.err, err, v)
		}
	}
	// Edited into another schedule's, or into a request's binding.
	for what, edit := range map[string]func(*bindingHeader){
		"schedule": func(h *bindingHeader) { h.Schedule = otherSchedule.Schedule },
		"schedule to request": func(h *bindingHeader) {
			h.Schedule, h.WorkflowID, h.Expires = "", manual.WorkflowID, testNow.Add(time.Hour).Unix()
		},
	} {
		forged := reheader(t, sealed, edit)
		b, _ := BindingOf(forged)
		want := Binding{WorkflowID: b.WorkflowID, Schedule: b.Schedule, Purpose: b.Purpose}
		var v testCreds
		if err := s.Open(forged, want, testNow, &v); !errors.Is(err, ErrTampered) || v.Passphrase != "" {
			t.Errorf("edited %s: want %v, got %v (opened %+v)", what, ErrTampered, err, v)
		}
	}
	// A request's secret does not open as a schedule's.
	reqSealed, _ := s.Seal(testCreds{"hunter2"}, Binding{WorkflowID: run.WorkflowID, Purpose: "backup", Expires: testNow.Add(time.Hour)})
	var v testCreds
	if err := s.Open(reqSealed, Binding{WorkflowID: "corso-backup-exchange-nightly-2031-05-02T04:00:00Z", Schedule: bound.Schedule, Purpose: "backup"}, testNow, &v); !errors.Is(err, ErrOtherRequest) {
		t.Errorf("a request's secret in a run of a schedule: %v", err)
	}
}

func TestSealNeedsABinding(t *testing.T) {
	s, _ := NewSealer(mustKey(t))
	for _, b := range []Binding{{}, {WorkflowID: "w", Purpose: "backup"}, {WorkflowID: "w", Expires: testNow}, {Purpose: "backup", Expires: testNow},
		{Schedule: "s"}, {Schedule: "s", WorkflowID: "w", Purpose: "backup", Expires: testNow}} {
		if _, err := s.Seal("x", b); err == nil {
			t.Errorf("sealed with the incomplete binding %+v", b)
		}
	}
}

// TestUnboundSecretIsRefused: a secret sealed the old way (constant
// associated data, no binding) is refused as unbound.
func TestUnboundSecretIsRefused(t *testing.T) {
	s, _ := NewSealer(mustKey(t))
	for i := 0; i < 20; i++ {
		old, err := seal(s.aead, []byte(`{"Passphrase":"hunter2"}`), []byte("corso sealed secret v1"))
		if err != nil {
			t.Fatal(err)
		}
		var v testCreds
		if err := s.Open(old, testBinding, testNow, &v); !errors.Is(err, ErrRefused) || v.Passphrase != "" {
			t.Fatalf("an unbound secret: %v (opened %+v)", err, v)
		}
	}
}

// TestUnencryptedPayloadIsRefused: workers decode only payloads the codec
// encrypted, unless told to accept old plaintext; the codec server, which
// only displays, shows them.
func TestUnencryptedPayloadIsRefused(t *testing.T) {
	key := mustKey(t)
	plain, err := converter.GetDefaultDataConverter().ToPayload(map[string]string{"credentials": "copied"})
	if err != nil {
		t.Fatal(err)
	}
	strict, _ := NewDataConverter(key)
	var v map[string]string
	if err := strict.FromPayload(plain, &v); !errors.Is(err, ErrUnencrypted) {
		t.Fatalf("a plaintext payload: want %v, got %v (decoded %v)", ErrUnencrypted, err, v)
	}
	c, _ := NewPayloadCodec(key, AcceptUnencrypted(false))
	if _, err := c.Decode([]*commonpb.Payload{plain}); !errors.Is(err, ErrUnencrypted) {
		t.Fatalf("codec Decode of plaintext: %v", err)
	}
	// The codec server decodes for display: it shows plaintext as it is.
	display, _ := NewPayloadCodec(key)
	if out, err := display.Decode([]*commonpb.Payload{plain}); err != nil || string(out[0].GetData()) != string(plain.GetData()) {
		t.Fatalf("display Decode of plaintext: %v", err)
	}
	lenient, _ := NewDataConverter(key, AcceptUnencrypted(true))
	if err := lenient.FromPayload(plain, &v); err != nil || v["credentials"] != "copied" {
		t.Fatalf("with AcceptUnencrypted: %v %v", v, err)
	}
	// Encrypted payloads decode either way.
	enc, _ := strict.ToPayload("ok")
	var sv string
	if err := strict.FromPayload(enc, &sv); err != nil || sv != "ok" {
		t.Fatalf("an encrypted payload: %q %v", sv, err)
	}
}

// TestFailureMessagesAreEncoded: failures are stored with a placeholder
// message and no stack trace; the real ones travel encrypted and come back
// through the same converters.
func TestFailureMessagesAreEncoded(t *testing.T) {
	key := mustKey(t)
	dc, _ := NewDataConverter(key)
	fc := NewFailureConverter(dc)
	const subject = "Quarterly layoffs plan.eml"
	f := fc.ErrorToFailure(temporal.NewNonRetryableApplicationError("cannot write "+subject, "ItemFailed", nil))
	if strings.Contains(f.GetMessage(), "layoffs") || strings.Contains(f.GetStackTrace(), "layoffs") || f.GetEncodedAttributes() == nil {
		t.Fatalf("failure stored with message %q, stack %q", f.GetMessage(), f.GetStackTrace())
	}
	if bytes.Contains(f.GetEncodedAttributes().GetData(), []byte("layoffs")) {
		t.Fatal("the encoded attributes hold the message in plaintext")
	}
	var appErr *temporal.ApplicationError
	if err := fc.FailureToError(f); !errors.As(err, &appErr) || appErr.Message() != "cannot write "+subject || appErr.Type() != "ItemFailed" {
		t.Fatalf("decoded failure: %v", err)
	}
}
