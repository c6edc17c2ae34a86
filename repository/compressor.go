package repository

import (
	"encoding/binary"
	"fmt"
	"io"
	"runtime"
	"sync/atomic"

	"github.com/klauspost/compress/zstd"
	"github.com/kopia/kopia/repo/compression"
)

// Every object is compressed with zstd at its fastest level. Kopia keeps
// its zstd encoders in a sync.Pool, which every garbage collection empties,
// and each new encoder allocates a history of twice its window, 16 MiB at
// zstd's default 8 MiB window, on its first use. A worker under its soft
// memory limit collects often, so it paid for a new history on most
// items: 60% of the bytes a backup allocated, and a quarter of its
// processor time spent collecting them.
//
// compressor writes the same format under the same header, so kopia (and
// any zstd decoder) reads it as before, from encoders kept across
// collections in a free list bounded by the processors, each with a 1 MiB
// window and a history of little more. Kopia compresses each content, at
// most a few MiB, on its own: a 1 MiB window loses only matches further
// apart than that within one content, and none within an item smaller than
// it. Contents are addressed by the hash of what they hold before
// compression, so deduplication is unchanged.
type compressor struct {
	compression.Compressor // kopia's, for the header ID and decompression
	header                 []byte
	level                  zstd.EncoderLevel
	free                   chan *zstd.Encoder
	made                   atomic.Int64 // encoders made, kept or not
}

// encoderWindow is the window of the encoders compressor keeps.
const encoderWindow = 1 << 20

func init() {
	kopias := compression.ByName[Compressor]
	if kopias == nil || kopias.HeaderID() != compression.HeaderZstdFastest {
		panic(fmt.Sprintf("kopia registers no %s compressor under header %x", Compressor, compression.HeaderZstdFastest))
	}
	c := newCompressor(kopias, zstd.SpeedFastest, 2*runtime.GOMAXPROCS(0))
	compression.ByName[Compressor] = c
	compression.ByHeaderID[c.HeaderID()] = c
}

func newCompressor(kopias compression.Compressor, level zstd.EncoderLevel, keep int) *compressor {
	h := binary.BigEndian.AppendUint32(nil, uint32(kopias.HeaderID())) // as kopia writes it
	return &compressor{Compressor: kopias, header: h, level: level, free: make(chan *zstd.Encoder, keep)}
}

// Compress writes kopia's header, then input as one zstd frame.
func (c *compressor) Compress(output io.Writer, input io.Reader) error {
	if _, err := output.Write(c.header); err != nil {
		return fmt.Errorf("compression header: %w", err)
	}
	enc, err := c.take()
	if err != nil {
		return err
	}
	enc.Reset(output)
	if _, err := enc.ReadFrom(input); err != nil {
		_ = enc.Close()
		return fmt.Errorf("compression: %w", err)
	}
	if err := enc.Close(); err != nil {
		return fmt.Errorf("compression: %w", err)
	}
	c.give(enc)
	return nil
}

// take returns a kept encoder, or a new one when none is free.
func (c *compressor) take() (*zstd.Encoder, error) {
	select {
	case enc := <-c.free:
		return enc, nil
	default:
	}
	enc, err := zstd.NewWriter(nil, zstd.WithEncoderLevel(c.level), zstd.WithWindowSize(encoderWindow),
		zstd.WithEncoderConcurrency(1), zstd.WithLowerEncoderMem(true))
	if err != nil {
		return nil, fmt.Errorf("compression: %w", err)
	}
	c.made.Add(1)
	return enc, nil
}

// give keeps enc for the next compression, unless enough are kept.
func (c *compressor) give(enc *zstd.Encoder) {
	enc.Reset(nil) // let go of the last output
	select {
	case c.free <- enc:
	default:
	}
}
