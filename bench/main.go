// Command bench measures corso against its targets in one run on this
// machine and prints the figures and ratios: Exchange backup throughput
// against raw kopia ingest of the same items, restore and export rates,
// incremental cost after churn, worker memory as a mailbox grows, history
// size, re-fetching after a worker is killed, scaling from one worker to
// four under Graph latency, drive backup throughput and memory with large
// files, and the full backup's throughput with a real tenant's persistent
// faults against a clean tenant. Other sections use clean tenants. After
// printing every figure it exits 1 if a target was not met or a section
// failed.
//
//	make build && go run ./bench [-items 3000] [-only exchange-incremental|drive|memory|scale|real-tenant|tenant-scale|postgres] [-tenant-users 10000]
package main

import (
	"flag"
	"fmt"
	"os"
	"time"
)

type config struct {
	users   int
	items   int
	latency time.Duration
	// Scaling run: mailboxes and items per mailbox.
	scaleUser, scaleItems int
	// Drive run: files per user, and the cap of the few large ones.
	driveFiles int
	maxFile    int64
	// largeFile is the size of the one file whose cost in worker memory
	// the drive run measures.
	largeFile int64
	// tenantUsers is the size of the tenant-scale run's tenant;
	// tenantLimit, when set, cuts the run short.
	tenantUsers int
	tenantLimit time.Duration
	// maintBackups incremental backups of one mailbox, with quick
	// maintenance scheduled every maintEvery in the second round.
	maintBackups int
	maintEvery   time.Duration
	// postgresUsers is the size of the postgres section's tenant;
	// postgresCompare runs it on SQLite too.
	postgresUsers   int
	postgresCompare bool
	// channelMessages is about how many channel threads the groups
	// section's team holds.
	channelMessages int
	// only names the one section to run; empty runs them all.
	only string
}

// Sections -only runs alone: the full Exchange backup and the incremental
// after churn; the drive backup against raw ingest; worker memory as a
// mailbox grows.
const (
	onlyExchangeIncremental = "exchange-incremental"
	onlyDrive               = "drive"
	onlyMemory              = "memory"
	onlyScale               = "scale"
	onlyRealTenant          = "real-tenant"
	onlyTenantScale         = "tenant-scale"
	onlyMaintenance         = "maintenance"
	onlyPostgres            = "postgres"
	onlyGroups              = "groups"
	onlyFolders             = "folders"
	onlyDriveEnumeration    = "drive-enumeration"
	onlyFleetCeiling        = "fleet-ceiling"
	onlyPerItem             = "per-item"
	onlyDriveBudget         = "drive-budget"
)

func main() {
	var c config
	flag.IntVar(&c.users, "users", 6, "mailboxes in the throughput tenant")
	flag.IntVar(&c.items, "items", 3000, "items per mailbox in the throughput tenant")
	flag.DurationVar(&c.latency, "latency", 100*time.Millisecond, "simulated Graph latency for the scaling run")
	flag.IntVar(&c.scaleUser, "scale-users", 16, "mailboxes in the scaling tenant")
	flag.IntVar(&c.scaleItems, "scale-items", 1000, "items per mailbox in the scaling tenant")
	flag.IntVar(&c.tenantUsers, "tenant-users", 10000, "users in the tenant-scale run's tenant (2 small items each)")
	flag.DurationVar(&c.tenantLimit, "tenant-limit", 30*time.Minute, "stop the tenant-scale run after this long and report what it measured (0: run to the end; 10,000 users take about 3 hours on 2 cores)")
	flag.IntVar(&c.maintBackups, "maint-backups", 200, "incremental backups of one mailbox in the maintenance section")
	flag.DurationVar(&c.maintEvery, "maint-every", 30*time.Second, "interval of the quick maintenance schedule in the maintenance section")
	flag.IntVar(&c.postgresUsers, "postgres-users", 500, "users in the postgres section's tenant (2 small items each)")
	flag.BoolVar(&c.postgresCompare, "postgres-compare", true, "in the postgres section, back up the same tenant with Temporal on SQLite too")
	flag.IntVar(&c.channelMessages, "channel-messages", 400, "about how many channel threads the groups section's team holds")
	flag.IntVar(&c.driveFiles, "drive-files", 400, "files per user in the drive tenant")
	flag.Int64Var(&c.maxFile, "max-file-mib", 512, "size cap, in MiB, of the few large files per drive")
	flag.Int64Var(&c.largeFile, "large-file-mib", 1024, "size, in MiB, of the one file whose cost in worker memory the drive run measures")
	flag.StringVar(&c.only, "only", "", "run only this section: "+onlyExchangeIncremental+" (full backup, 1% churn, incremental backup), "+
		onlyDrive+" (drive backup against raw ingest, worker memory with one large file), "+onlyMemory+" (worker RSS as a mailbox grows 4x), "+onlyScale+" (4 workers against 1), "+
		onlyRealTenant+" (full backup with a real tenant's persistent faults against a clean tenant) or "+
		onlyTenantScale+" (every mailbox of a tenant of -tenant-users users: payload and history sizes) or "+
		onlyMaintenance+" (-maint-backups incremental backups of one mailbox, without and with scheduled quick maintenance) or "+
		onlyPostgres+" (every mailbox of a tenant of -postgres-users users with 4 workers and Temporal on PostgreSQL, which scripts/postgres.sh installs and starts, against SQLite; only run when asked) or "+
		onlyGroups+" (a team of about -channel-messages threads under Teams' rate limits: throughput, and requests per change of the incremental) or "+
		onlyFolders+" (one mailbox of many folders: largest payload and history) or "+
		onlyDriveEnumeration+" (one library of many files: worker memory and resumed enumeration) or "+
		onlyPerItem+" (full backup against raw kopia ingest of the same items: processor time per item) or "+
		onlyDriveBudget+" (every site of a tenant under SharePoint's resource units a minute: budget used, share of requests throttled) or "+
		onlyFleetCeiling+" (a tenant under per-mailbox limits: throughput against the sum of the mailboxes' ceilings, share of requests throttled)")
	flag.Parse()
	switch c.only {
	case "", onlyExchangeIncremental, onlyDrive, onlyMemory, onlyScale, onlyRealTenant, onlyTenantScale, onlyMaintenance, onlyPostgres, onlyGroups,
		onlyFolders, onlyDriveEnumeration, onlyFleetCeiling, onlyPerItem, onlyDriveBudget:
	default:
		fmt.Fprintf(os.Stderr, "bench: unknown section %q for -only (want %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s or %s)\n", c.only, onlyExchangeIncremental, onlyDrive, onlyMemory, onlyScale, onlyRealTenant, onlyTenantScale, onlyMaintenance, onlyPostgres, onlyGroups,
			onlyFolders, onlyDriveEnumeration, onlyFleetCeiling, onlyPerItem, onlyDriveBudget)
		os.Exit(2)
	}
	if c.postgresUsers < 1 {
		fmt.Fprintln(os.Stderr, "bench: -postgres-users must be 1 or more")
		os.Exit(2)
	}
	if c.channelMessages < 5 {
		fmt.Fprintln(os.Stderr, "bench: -channel-messages must be 5 or more")
		os.Exit(2)
	}
	if c.tenantUsers < 1 {
		fmt.Fprintln(os.Stderr, "bench: -tenant-users must be 1 or more")
		os.Exit(2)
	}
	c.maxFile <<= 20
	c.largeFile <<= 20
	var rep report
	err := run(c, &rep)
	rep.print()
	code, msg := outcome(&rep, err)
	if msg != "" {
		fmt.Fprintln(os.Stderr, msg)
	}
	os.Exit(code)
}
