package main

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"

	"github.com/corso-temporal/corso/workflows"
)

type verifyFlags struct {
	id        string
	readData  bool
	drill     int
	drillSeed uint64
	creds     credentialFlags
}

func newBackupVerifyCommand(g *globals, service string) *cobra.Command {
	var f verifyFlags
	cmd := &cobra.Command{
		Use:   service,
		Short: "Check that a " + service + " backup can be read back, optionally restoring a sample",
		Example: "  corso backup verify " + service + " --backup ID\n  corso backup verify " + service +
			" --backup ID --read-data\n  corso backup verify " + service + " --backup ID --drill 10",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			in, err := f.input(service, cmd.Flags().Changed("drill-seed"))
			if err != nil {
				return err
			}
			return runBackupVerify(cmd.Context(), g, in, f.creds, cmd.OutOrStdout())
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.id, "backup", "", "id of the backup to verify (see `corso backup list "+service+"`)")
	fl.BoolVar(&f.readData, "read-data", false, "read every item back, decrypt it and compare it with the hash recorded at backup time")
	fl.IntVar(&f.drill, "drill", 0, "restore this many sampled items into a scratch folder of the tenant, compare them with the backup, then delete them")
	fl.Uint64Var(&f.drillSeed, "drill-seed", 0, "seed choosing the drill's sample (default: random, printed)")
	addPassphraseFlags(cmd, &f.creds)
	return cmd
}

func (f verifyFlags) input(service string, seedGiven bool) (workflows.VerifyInput, error) {
	in := workflows.VerifyInput{Service: service, BackupID: f.id, ReadData: f.readData, Drill: f.drill, DrillSeed: f.drillSeed}
	if f.id == "" {
		return in, errors.New("--backup is required")
	}
	if f.drill < 0 {
		return in, fmt.Errorf("--drill %d: give a number of items, 0 for no drill", f.drill)
	}
	if f.drill > 0 && !seedGiven {
		var b [8]byte
		_, _ = rand.Read(b[:])
		in.DrillSeed = binary.BigEndian.Uint64(b[:]) >> 1 // fits a JSON number exactly
	}
	return in, nil
}

func runBackupVerify(ctx context.Context, g *globals, in workflows.VerifyInput, cf credentialFlags, out io.Writer) error {
	s, err := connectedSession(ctx, g, cf)
	if err != nil {
		return err
	}
	defer s.client.Close()
	if in.Drill > 0 {
		if err := loadGraph(s); err != nil {
			return err
		}
	}
	attrs := []temporal.SearchAttributeUpdate{
		workflows.AttrOperation.ValueSet("backup verify"),
		workflows.AttrService.ValueSet(in.Service),
		workflows.AttrRepository.ValueSet(s.repo.Storage.String()),
		workflows.AttrBackupID.ValueSet(in.BackupID),
	}
	var res workflows.VerifyResult
	sub, err := execute(ctx, s.client, g, request{
		idPrefix: "corso-backup-verify",
		workflow: workflows.VerifyBackupWorkflow,
		input: s.input(func(repo workflows.RepoRef, gr workflows.GraphRef) any {
			in.Repo, in.Graph = repo, gr
			return in
		}),
		attrs:    attrs,
		progress: heartbeatProgress(g, s.client, verifyReport(in.ReadData)),
	}, &res)
	if err != nil {
		return err
	}
	if g.json {
		if err := printJSON(out, struct {
			Workflow submitted `json:"workflow"`
			workflows.VerifyResult
		}{sub, res}); err != nil {
			return err
		}
	} else {
		printVerify(out, res)
		if link := webUILink(g, sub); link != "" {
			fmt.Fprintf(out, "\nWeb UI: %s\n", link)
		}
	}
	if res.OK() {
		return nil
	}
	var why []string
	if n := res.Missing + res.Corrupt; n > 0 {
		why = append(why, fmt.Sprintf("%d objects missing or damaged", n))
	}
	if d := res.Drill; d != nil && !d.OK() {
		why = append(why, fmt.Sprintf("%d of %d drill items did not come back as backed up", d.Sampled-d.Matched, d.Sampled))
	}
	return fmt.Errorf("backup %s failed verification: %s", res.Backup.BackupID, strings.Join(why, "; "))
}

// verifyReport is where a verify stands: the collections and items its
// activity checked, and with readData the bytes it read, of the backup's
// totals; then its restore drill.
func verifyReport(readData bool) describedReport {
	stage := "verifying"
	if readData {
		stage = "reading back"
	}
	return func(d *workflowservice.DescribeWorkflowExecutionResponse, dc converter.DataConverter) progressReport {
		var p workflows.VerifyProgress
		if !pendingHeartbeat(d, dc, workflows.ActivityVerifyBackup, &p) {
			if len(d.GetPendingChildren()) > 0 || pendingActivity(d, workflows.ActivityPlanDrill) || pendingActivity(d, workflows.ActivityCheckDrill) {
				return progressReport{Stage: "restore drill"}
			}
			return progressReport{Stage: stage}
		}
		r := progressReport{Stage: stage, Unit: "collections", Done: p.Done, Total: p.CollectionsTotal,
			Items: p.Result.Items, ItemsTotal: p.ItemsTotal}
		if readData {
			r.Bytes, r.BytesTotal = p.Result.Bytes, p.BytesTotal
		}
		return r
	}
}

// verifyProblemsShown is how many problems the table output lists.
const verifyProblemsShown = 25

func printVerify(out io.Writer, res workflows.VerifyResult) {
	how := "every object present in storage (--read-data also reads them back)"
	if res.ReadData {
		how = "every object read back and decrypted"
	}
	fmt.Fprintf(out, "Verified backup %s of %s: %s\n", res.Backup.BackupID, printable(res.Backup.ResourceName), how)
	fmt.Fprintf(out, "  collections %d, items %d, pack blobs %d", res.Collections, res.Items, res.Packs)
	if res.ReadData {
		fmt.Fprintf(out, ", read %s", humanBytes(res.Bytes))
	}
	fmt.Fprintln(out)
	if res.ReadData {
		fmt.Fprintf(out, "  %d items matched the SHA-256 recorded at backup time; %d items had none recorded (backed up before hashes were) and passed kopia's authenticated decryption only\n",
			res.Hashed, res.IntegrityOnly)
	}
	fmt.Fprintf(out, "  missing %d, corrupt %d\n", res.Missing, res.Corrupt)
	if len(res.Problems) > 0 {
		fmt.Fprintln(out, "\nAffected:")
		tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "  PROBLEM\tOBJECT\tCATEGORY\tFOLDER\tNAME\tID\tREASON")
		for i, p := range res.Problems {
			if i == verifyProblemsShown {
				break
			}
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\t%s\t%s\n", p.Problem, p.Object, p.Category, printable(strings.Join(p.Path, "/")),
				printable(clip(p.Name)), p.ItemID, printable(p.Reason))
		}
		_ = tw.Flush()
		if more := int64(len(res.Problems)-verifyProblemsShown) + res.ProblemsOmitted; more > 0 {
			fmt.Fprintf(out, "  … and %d more (see --json)\n", more)
		}
	}
	if d := res.Drill; d != nil {
		fmt.Fprintf(out, "\nRestore drill (seed %d): %d of %d sampled items restored into %s of %s and matched the backup\n",
			d.Seed, d.Matched, d.Sampled, d.Destination, printable(d.Target))
		for _, f := range d.Failures {
			fmt.Fprintf(out, "  FAILED %s %s/%s (%s): %s\n", f.Category, printable(strings.Join(f.Path, "/")), printable(f.Name), f.ItemID, printable(f.Reason))
		}
		if d.Removed {
			fmt.Fprintf(out, "  the scratch copy %s was deleted\n", d.Destination)
		} else {
			fmt.Fprintf(out, "  the scratch copy %s was NOT deleted: %s\n", d.Destination, printable(d.CleanupError))
		}
	}
}
