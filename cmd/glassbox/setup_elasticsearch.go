package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/glassbox-obs/glassbox/exporter/elasticsearch"
	"github.com/glassbox-obs/glassbox/internal/doctor"
)

// minESVersion is the oldest Elasticsearch the templates work on, as
// people write it ("8.13").
func minESVersion() string { return strings.TrimSuffix(elasticsearch.MinVersion, ".0") }

// setupElasticsearchCommand is "glassbox setup elasticsearch".
func setupElasticsearchCommand() *command {
	return &command{
		name:  "elasticsearch",
		args:  "[--retention 30d] [--dry-run] [--force]",
		short: "install the index templates, component templates and ILM policy",
		long: `Setup elasticsearch installs what glassbox's data streams need, with the code
the exporter itself uses (GLASSBOX_ELASTICSEARCH_TEMPLATES=true):

  ILM policy           ` + elasticsearch.PolicyName + `: rollover at 50 GB per primary shard or 1 day,
                       delete after the retention
  component templates  ` + elasticsearch.ECSComponentTemplate + ` (the ECS fields and their types),
                       ` + elasticsearch.SettingsTemplate + ` (the policy, the mapping safety settings)
  index templates      ` + elasticsearch.LogsIndexTemplate + ` (logs-*-*) and ` + elasticsearch.TracesIndexTemplate + ` (traces-*-*),
                       data streams, priority 150

Each object carries "_meta": {"managed_by": "glassbox", "glassbox_version": N}.
What is missing is created. An older glassbox version is updated, and so is
one of this version whose content is not glassbox's: the policy's retention
when --retention (or GLASSBOX_ELASTICSEARCH_RETENTION) asks for another, a
template's body edited since it was installed (fields Elasticsearch adds
itself do not count). The rest is left alone, so a second run changes
nothing. An object of one of these names that glassbox does not manage is
never replaced without --force; neither is one a newer glassbox installed.

--retention sets the policy's delete phase: "--retention 7d" on a cluster
whose glassbox policy keeps 30 days updates it to 7 days. Without
--retention or the variable, a new policy keeps data 30 days and an
installed one keeps its retention (whatever was set before, also in Kibana).
Only the delete phase's min_age is compared: other changes made to the
policy in Kibana are kept until an update replaces the policy.

The cluster and credentials come from the exporter's variables:
ELASTICSEARCH_URL (or ELASTICSEARCH_CLOUD_ID), ELASTICSEARCH_API_KEY or
ELASTICSEARCH_USERNAME and ELASTICSEARCH_PASSWORD, ELASTICSEARCH_CA_CERT.
The credentials need the manage_ilm and manage_index_templates cluster
privileges, and Elasticsearch must be ` + minESVersion() + ` or newer.

With --dry-run nothing is changed: standard output gets a JSON array of the
objects, each {"path", "kind", "name", "action", "body"} where action is what
would be done (created, updated, unchanged, not owned, newer) and body what
would be PUT at path. Otherwise standard output gets one line per object:
created, updated, unchanged or left alone.

Examples:

	ELASTICSEARCH_URL=http://localhost:9200 glassbox setup elasticsearch
	glassbox setup elasticsearch --retention 90d
	glassbox setup elasticsearch --dry-run | jq '.[] | {path, action}'

Exit status: 0 when every object is installed and current (or, with
--dry-run, when the plan was printed); 1 when an object was left alone
because glassbox does not manage it, the version is too old, or Elasticsearch
refused an object; 2 on a usage error, or when Elasticsearch cannot be
reached or refuses the credentials.
`,
		flags: func(fs *flag.FlagSet) func(context.Context, *env, []string) int {
			retention := fs.String("retention", "", "delete data older than `period`: days (30d) or a Go duration (720h); an installed policy with another retention is updated (default: GLASSBOX_ELASTICSEARCH_RETENTION, else 30d for a new policy and an installed one's own)")
			dryRun := fs.Bool("dry-run", false, "print the objects and what would be done as JSON; change nothing")
			force := fs.Bool("force", false, "replace objects of glassbox's names that glassbox does not manage, and newer glassbox versions")
			timeout := fs.Duration("timeout", 30*time.Second, "give up on Elasticsearch after this `duration`")
			return func(ctx context.Context, e *env, args []string) int {
				if len(args) > 0 {
					fmt.Fprintf(e.stderr, "glassbox setup elasticsearch: unexpected argument %q\n", args[0])
					return exitUsage
				}
				ret, err := retentionOf(*retention, e.getenv)
				if err != nil {
					fmt.Fprintf(e.stderr, "glassbox setup elasticsearch: %v\n", err)
					return exitUsage
				}
				cl, err := elasticsearch.Connect(elasticsearch.WithGetenv(e.getenv))
				if err != nil {
					fmt.Fprintf(e.stderr, "glassbox setup elasticsearch: %v\n", err)
					return exitUsage
				}
				defer cl.Close(context.Background())
				ctx, cancel := context.WithTimeout(ctx, *timeout)
				defer cancel()
				opts := elasticsearch.InstallOptions{Retention: ret, Force: *force, DryRun: *dryRun}
				res, err := cl.InstallTemplates(ctx, opts)
				return reportInstall(e, doctor.ElasticsearchAddress(e.getenv), opts, res, err)
			}
		},
	}
}

// retentionOf is the --retention flag, else GLASSBOX_ELASTICSEARCH_RETENTION
// (both parsed by the exporter's rule), else 0 for the default.
func retentionOf(flagValue string, getenv func(string) string) (time.Duration, error) {
	name, v := "--retention", flagValue
	if v == "" {
		name, v = "GLASSBOX_ELASTICSEARCH_RETENTION", strings.TrimSpace(getenv("GLASSBOX_ELASTICSEARCH_RETENTION"))
	}
	if v == "" {
		return 0, nil
	}
	d, err := elasticsearch.ParseRetention(v)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", name, err)
	}
	return d, nil
}

// reportInstall prints what InstallTemplates did and returns the exit
// code.
func reportInstall(e *env, where string, o elasticsearch.InstallOptions, res []elasticsearch.TemplateResult, err error) int {
	const me = "glassbox setup elasticsearch"
	var se *elasticsearch.StatusError
	switch {
	case errors.As(err, &se) && se.StatusCode == http.StatusUnauthorized:
		fmt.Fprintf(e.stderr, "%s: %s refused the credentials (HTTP 401)\n%s\n", me, where, doctor.CredentialsFix(e.getenv))
		return exitUsage
	case errors.As(err, &se) && se.StatusCode == http.StatusForbidden:
		fmt.Fprintf(e.stderr, "%s: %s refused %s %s (HTTP 403)\n%s\n", me, where, se.Method, se.Path, doctor.PrivilegeFix(doctor.PrivilegesSetup))
		return exitUsage
	case errors.Is(err, elasticsearch.ErrUnsupportedVersion):
		fmt.Fprintf(e.stderr, "%s: %v\nUpgrade Elasticsearch to %s or newer: the templates need it.\n", me, err, minESVersion())
		return exitNotFound
	case err != nil && se == nil && len(res) == 0 && !errors.Is(err, elasticsearch.ErrNotOwned):
		fmt.Fprintf(e.stderr, "%s: cannot reach Elasticsearch at %s: %s\nWhat to do: %s\n", me, where, safe(strings.TrimPrefix(err.Error(), "elasticsearch: ")), doctor.UnreachableFix)
		return exitUsage
	}
	if o.DryRun {
		if werr := writePlan(e, res, o.Retention); werr != nil {
			fmt.Fprintf(e.stderr, "%s: %v\n", me, werr)
			return exitUsage
		}
	} else {
		writeResults(e, res)
	}
	n := map[elasticsearch.TemplateAction]int{}
	var foreign []string
	for _, r := range res {
		n[r.Action]++
		if r.Action == elasticsearch.TemplateNotOwned {
			foreign = append(foreign, r.Path)
		}
	}
	left := n[elasticsearch.TemplateNotOwned] + n[elasticsearch.TemplateNewer]
	if o.DryRun {
		fmt.Fprintf(e.stderr, "dry run on %s: would create %d, update %d, leave %d unchanged and %d alone; nothing was changed\n",
			where, n[elasticsearch.TemplateCreated], n[elasticsearch.TemplateUpdated], n[elasticsearch.TemplateUnchanged], left)
	} else {
		fmt.Fprintf(e.stderr, "%s: created %d, updated %d, unchanged %d, left alone %d\n",
			where, n[elasticsearch.TemplateCreated], n[elasticsearch.TemplateUpdated], n[elasticsearch.TemplateUnchanged], left)
	}
	switch {
	case len(foreign) > 0:
		fmt.Fprintf(e.stderr, "%s: left alone, glassbox does not manage them: %s\n"+
			"Another tool (or a person) installed objects of these names. Look at them (GET %s);\n"+
			"to replace them with glassbox's, run again with --force.\n", me, strings.Join(foreign, ", "), foreign[0])
		return exitNotFound
	case err != nil:
		fmt.Fprintf(e.stderr, "%s: %s\n", me, safe(err.Error()))
		return exitNotFound
	case n[elasticsearch.TemplateNewer] > 0:
		fmt.Fprintf(e.stderr, "%s: a newer glassbox installed %d of the objects; they were left alone (--force replaces them)\n", me, n[elasticsearch.TemplateNewer])
	}
	return exitOK
}

// writeResults prints one line per object: what was done, its kind, its
// name and, for one left alone, why.
func writeResults(e *env, res []elasticsearch.TemplateResult) {
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	for _, r := range res {
		verb, why := r.Action.String(), ""
		switch r.Action {
		case elasticsearch.TemplateNotOwned:
			verb, why = "left alone", fmt.Sprintf("not managed by glassbox (managed_by %q)", safe(r.ManagedBy))
		case elasticsearch.TemplateNewer:
			verb, why = "left alone", fmt.Sprintf("version %d is newer than this glassbox's %d", r.Version, elasticsearch.TemplateVersion)
		case elasticsearch.TemplateUpdated:
			switch {
			case r.ManagedBy != "glassbox":
				why = fmt.Sprintf("replaced an object managed by %q (--force)", safe(r.ManagedBy))
			case r.Drift != "":
				why = r.Drift
			default:
				why = fmt.Sprintf("version %d to %d", r.Version, elasticsearch.TemplateVersion)
			}
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", verb, r.Kind, r.Name, why)
	}
	tw.Flush()
}

// plannedObject is one element of --dry-run's output.
type plannedObject struct {
	Path   string          `json:"path"`
	Kind   string          `json:"kind"`
	Name   string          `json:"name"`
	Action string          `json:"action"`
	Body   json.RawMessage `json:"body"`
}

// writePlan prints the objects as JSON with what would be done to each.
func writePlan(e *env, res []elasticsearch.TemplateResult, retention time.Duration) error {
	action := map[string]string{}
	for _, r := range res {
		action[r.Path] = r.Action.String()
	}
	var plan []plannedObject
	for _, t := range elasticsearch.Templates(retention) {
		kind, name, _ := strings.Cut(t.Path, "/")
		for _, r := range res {
			if r.Path == t.Path {
				kind, name = r.Kind, r.Name
			}
		}
		plan = append(plan, plannedObject{Path: t.Path, Kind: kind, Name: name, Action: action[t.Path], Body: t.Body})
	}
	b, err := json.MarshalIndent(plan, "", "  ")
	if err != nil {
		return err
	}
	_, err = e.stdout.Write(append(b, '\n'))
	return err
}
