package activities

import (
	"fmt"
	"runtime"
	"runtime/metrics"
	"sync"
	"testing"
	"time"
)

// BenchmarkDriveEnumerationMemory enumerates a library of N files from
// scratch and reports the peak of live heap above what was in use before,
// per file: what a worker holds for each file of the library it
// enumerates.
//
//	go test ./activities -run '^$' -bench DriveEnumerationMemory -benchtime 1x
func BenchmarkDriveEnumerationMemory(b *testing.B) {
	for _, files := range []int{100_000, 1_000_000} {
		b.Run(fmt.Sprintf("files=%d", files), func(b *testing.B) {
			for range b.N {
				drive := newPagedDrive(files, max(1, files/200), 200)
				f := newEnumerationFixture(b, drive)
				runtime.GC()
				base := liveHeap()
				peak := watchPeakHeap()
				start := time.Now()
				en, _, err := f.enumerate(nil)
				elapsed := time.Since(start)
				top := peak()
				if err != nil {
					b.Fatal(err)
				}
				if en.Files != int64(files) {
					b.Fatalf("enumerated %d files of %d", en.Files, files)
				}
				b.ReportMetric(float64(top-base)/float64(files), "peak-heap-B/file")
				b.ReportMetric(float64(top-base)/(1<<20), "peak-heap-MiB")
				b.ReportMetric(elapsed.Seconds(), "enumerate-s")
			}
		})
	}
}

// liveHeap is the bytes of heap objects, live or not yet swept.
func liveHeap() uint64 {
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

// watchPeakHeap samples liveHeap until the returned function is called,
// which returns the highest sample.
func watchPeakHeap() func() uint64 {
	var mu sync.Mutex
	var top uint64
	done := make(chan struct{})
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		t := time.NewTicker(5 * time.Millisecond)
		defer t.Stop()
		for {
			h := liveHeap()
			mu.Lock()
			top = max(top, h)
			mu.Unlock()
			select {
			case <-t.C:
			case <-done:
				return
			}
		}
	}()
	return func() uint64 {
		close(done)
		<-stopped
		mu.Lock()
		defer mu.Unlock()
		return max(top, liveHeap())
	}
}
