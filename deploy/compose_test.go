package deploy

import (
	"bufio"
	"context"
	"os"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/cli"
)

// exampleEnv reads corso.env.example and fills the blanks, as an admin would.
func exampleEnv(t *testing.T) []string {
	t.Helper()
	f, err := os.Open("corso.env.example")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var env []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if strings.HasSuffix(line, "=") {
			line += "filled-in"
		}
		env = append(env, line)
	}
	return env
}

func TestComposeFileLoadsAndDescribesTheFleet(t *testing.T) {
	opts, err := cli.NewProjectOptions([]string{"../docker-compose.yml"},
		cli.WithEnv(exampleEnv(t)), cli.WithName("corso"), cli.WithProfiles([]string{"cli"}))
	if err != nil {
		t.Fatal(err)
	}
	p, err := opts.LoadProject(context.Background())
	if err != nil {
		t.Fatalf("docker-compose.yml does not load: %v", err)
	}
	for _, name := range []string{"postgresql", "temporal", "temporal-ui", "codec-server", "s3", "s3-bucket", "corso-worker", "corso"} {
		if _, err := p.GetService(name); err != nil {
			t.Errorf("service %s: %v", name, err)
		}
	}
	w, _ := p.GetService("corso-worker")
	if w.Deploy == nil || w.Deploy.Replicas == nil || *w.Deploy.Replicas < 2 {
		t.Errorf("corso-worker should run several replicas, got %+v", w.Deploy)
	}
	if w.Environment["CORSO_CODEC_KEY"] == nil || *w.Environment["CORSO_CODEC_KEY"] != "filled-in" {
		t.Errorf("workers do not get the codec key from .env")
	}
	temporal, _ := p.GetService("temporal")
	if *temporal.Environment["DB"] != "postgres12" {
		t.Errorf("temporal should persist in PostgreSQL, DB=%s", *temporal.Environment["DB"])
	}
	ui, _ := p.GetService("temporal-ui")
	if ui.Environment["TEMPORAL_CODEC_ENDPOINT"] == nil {
		t.Error("the Web UI has no codec endpoint, so it cannot show encrypted payloads")
	}
}

func TestComposeFileHoldsNoSecrets(t *testing.T) {
	b, err := os.ReadFile("../docker-compose.yml")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		l := strings.TrimSpace(line)
		for _, key := range []string{"PASSWORD:", "PWD:", "SECRET_ACCESS_KEY:", "SECRET_KEY:", "CODEC_KEY:", "PASSPHRASE:"} {
			if strings.Contains(l, key) && !strings.Contains(l, "${") {
				t.Errorf("secret written into docker-compose.yml: %s", l)
			}
		}
	}
}
