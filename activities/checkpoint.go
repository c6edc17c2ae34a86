package activities

// checkpoint is the heartbeat of a long backup activity, of every service:
// it names only flushed data, so a retry on any worker resumes from it.
// Segments are what was written so far (a drive batch's stored files, a
// collection's changes, a drive enumeration's sorted runs). A collection
// enumerated by delta or listing also has the page to read next (Link) and
// its counts; a drive enumeration has Link, Reset and, once every page
// was read, DeltaLink; a drive batch has segments only.
//
// Drive batches recorded {"segments": [...]} before this type was shared;
// that shape decodes as is, the other fields zero. Fields a drive batch
// leaves zero are omitted, so its heartbeats keep that shape.
type checkpoint struct {
	Started  bool     `json:"started,omitempty"`
	Link     string   `json:"link,omitempty"`
	Reset    bool     `json:"reset,omitempty"`
	Segments []string `json:"segments"`
	Fetched  int64    `json:"fetched,omitempty"`
	Reused   int64    `json:"reused,omitempty"`
	Removed  int64    `json:"removed,omitempty"`
	Skipped  int64    `json:"skipped,omitempty"`
	// Listed: Graph refused delta for the container, which is listed
	// instead; Link is then the listing's next page.
	Listed bool `json:"listed,omitempty"`
	// Backfill: the delta round ended with DeltaLink, but its category's
	// first rounds leave out older items, so the container is being
	// listed for them; Link is the listing's next page.
	Backfill  bool   `json:"backfill,omitempty"`
	DeltaLink string `json:"deltaLink,omitempty"`
}
