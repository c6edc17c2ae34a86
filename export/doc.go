// Package export turns Exchange items, as a backup stores them, into
// standard files and writes them safely to a directory or a zip archive,
// for "corso export exchange DIR --backup ID [--archive]".
//
// A backup stores a message as the MIME Graph serves for it; it is
// exported unchanged as a .eml file. A contact is stored as its Graph JSON
// and exported as a vCard 4.0 (.vcf, RFC 6350); an event is stored as its
// Graph JSON with its exceptions, cancelled occurrences and attachments
// and exported as iCalendar (.ics, RFC 5545).
//
// File and folder names come from subjects, display names and folder
// names that anyone who can send mail controls, so every name is made
// safe for Windows, macOS and Linux (SafeName), numbered when names clash
// within a directory (Namer), and kept inside the export's root whatever
// it holds. DirSink publishes each file only once it is complete; ZipSink
// streams an archive without holding files in memory.
package export
