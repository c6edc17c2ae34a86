// Package codec encrypts Temporal payloads so that workflow inputs, results,
// heartbeats and memos are stored as AES-256-GCM ciphertext on the Temporal
// server. The CLI and every worker share one key (CORSO_CODEC_KEY); the Web
// UI's codec server gets only its payload sub-key (CORSO_CODEC_PAYLOAD_KEY).
// It also seals individual secrets (passphrases, cloud keys) with a separate
// sub-key, so that the Web UI, which may be allowed to decode payloads for
// display, still never shows them; a sealed secret is bound to the request
// (workflow id, purpose, expiry) it was sealed for.
//
// This package knows nothing about workflows, repositories or Graph.
package codec
