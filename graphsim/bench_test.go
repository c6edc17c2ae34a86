package graphsim

import (
	"io"
	"net/http"
	"runtime"
	"testing"
)

func heapInUse() uint64 {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// A million-item tenant must cost little until touched: nothing per item
// is stored before a mutation or write.
func TestMillionItemTenantCostsLittleMemoryUntilTouched(t *testing.T) {
	before := heapInUse()
	h := newHarness(t, Options{Tenant: TenantOptions{Users: 1000, ItemsPerUser: 1000, Seed: 1}})
	h.getJSON("users?$top=999", http.StatusOK)
	u := h.user(0)
	h.getJSON("users/"+u+"/mailFolders/inbox/messages/delta", http.StatusOK)
	h.getJSON("users/"+u+"/drive/root/delta", http.StatusOK)
	afterTouch := heapInUse()
	used := int64(afterTouch) - int64(before)
	t.Logf("1,000 users x 1,000 items (1M items): heap %.1f MB after listing users and opening one mailbox and drive", float64(used)/(1<<20))
	if used > 500<<20 {
		t.Fatalf("heap grew by %d MB", used>>20)
	}
	// A full enumeration of one user leaves only caches behind.
	h.collect("users/"+u+"/mailFolders/inbox/messages/delta", "Prefer", "odata.maxpagesize=500")
	h.collect("users/" + u + "/drive/root/delta?$top=500")
	t.Logf("after enumerating one user's inbox and drive: heap %.1f MB", float64(int64(heapInUse())-int64(before))/(1<<20))
	runtime.KeepAlive(h)
}

func benchHarness(b *testing.B, o Options) *harness {
	b.Helper()
	h := newHarness(b, o)
	return h
}

func reportRate(b *testing.B) {
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
}

// BenchmarkSmallJSON measures small Graph JSON answers over loopback HTTP
// (client and server in one process). Run with -cpu 1 for the one-core rate.
func BenchmarkSmallJSON(b *testing.B) {
	h := benchHarness(b, Options{})
	u := h.user(0)
	url := h.srv.URL + "/v1.0/users/" + u + "?$select=id,displayName,mail"
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	req.Header.Set("Authorization", "Bearer "+h.token)
	client := &http.Client{}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		resp, err := client.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			b.Fatal(resp.Status)
		}
	}
	reportRate(b)
}

// BenchmarkSmallJSONMailFolder goes through the Exchange path (mailbox
// throttling bookkeeping, folder resolution by well-known name).
func BenchmarkSmallJSONMailFolder(b *testing.B) {
	h := benchHarness(b, Options{})
	u := h.user(0)
	req, _ := http.NewRequest(http.MethodGet, h.srv.URL+"/v1.0/users/"+u+"/mailFolders/inbox", nil)
	req.Header.Set("Authorization", "Bearer "+h.token)
	client := &http.Client{}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		resp, err := client.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	reportRate(b)
}

// BenchmarkMessageDeltaPage serves 500-item delta pages with Corso's $select.
func BenchmarkMessageDeltaPage(b *testing.B) {
	h := benchHarness(b, Options{Tenant: TenantOptions{Users: 1, ItemsPerUser: 5000}})
	u := h.user(0)
	req, _ := http.NewRequest(http.MethodGet, h.srv.URL+"/v1.0/users/"+u+"/mailFolders/inbox/messages/delta()?$select=id,lastModifiedDateTime", nil)
	req.Header.Set("Authorization", "Bearer "+h.token)
	req.Header.Set("Prefer", "odata.maxpagesize=500")
	client := &http.Client{}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		resp, err := client.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	reportRate(b)
}

// BenchmarkDownload streams a 16 MiB stored file through a download URL.
func BenchmarkDownload(b *testing.B) {
	h := benchHarness(b, Options{Tenant: TenantOptions{Users: 1, ItemsPerUser: 8}})
	const size = 16 << 20
	h.user(0)
	owner := h.sim.t.driveOwnerOfUser(h.sim.t.users[0])
	root, _ := h.sim.model.view(driveFolderRef(owner, 0))
	v, _, err := h.sim.upsertFile(owner, root, "bench.bin", contentOf(12345, size, false).bytes(), "replace")
	if err != nil {
		b.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodGet, h.sim.downloadURL(h.srv.URL, v), nil)
	client := &http.Client{}
	b.SetBytes(size)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		resp, err := client.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		n, _ := io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if n != size {
			b.Fatalf("got %d bytes", n)
		}
	}
}

// BenchmarkDownloadGenerated streams generated (never stored) content.
func BenchmarkDownloadGenerated(b *testing.B) {
	h := benchHarness(b, Options{Tenant: TenantOptions{Users: 1, ItemsPerUser: 400, MaxFileSize: 16 << 20}})
	u := h.user(0)
	st, _ := h.sim.State(StateFilter{User: u, Category: "files", NoHashes: true})
	var big StateItem
	for _, it := range st.Items {
		if it.Size > big.Size {
			big = it
		}
	}
	item := h.getJSON("drives/"+big.CollectionID+"/items/"+big.ID, http.StatusOK)
	req, _ := http.NewRequest(http.MethodGet, item["@microsoft.graph.downloadUrl"].(string), nil)
	client := &http.Client{}
	b.SetBytes(big.Size)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		resp, err := client.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
}

func BenchmarkContentGeneration(b *testing.B) {
	for _, text := range []bool{false, true} {
		name := "binary"
		if text {
			name = "text"
		}
		b.Run(name, func(b *testing.B) {
			c := contentOf(99, 8<<20, text)
			b.SetBytes(c.size)
			for i := 0; i < b.N; i++ {
				_ = c.WriteRange(io.Discard, 0, c.size)
			}
		})
	}
}

func BenchmarkQuickXorHash(b *testing.B) {
	buf := make([]byte, 1<<20)
	for i := range buf {
		buf[i] = byte(i * 7)
	}
	b.SetBytes(int64(len(buf)))
	var q QuickXorHash
	for i := 0; i < b.N; i++ {
		q.Write(buf)
	}
	_ = q.Sum(nil)
}
