// Submit a Contact Sales lead to leadmesh, then follow its journey through the five services.
//
//	LEADMESH_TOKEN=... LEADMESH_INTAKE_ADDR=intake.example:443 LEADMESH_TLS=1 go run . [-email ada@example.com]
//
// Addresses come from LEADMESH_<SERVICE>_ADDR (default: the local ports) or the -intake ... flags.
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"os"
	"time"

	intakev1 "github.com/leadmesh/leadmesh/clients/go/gen/leadmesh/intake/v1"
	leadv1 "github.com/leadmesh/leadmesh/clients/go/gen/leadmesh/lead/v1"
	"github.com/leadmesh/leadmesh/clients/go/leadmesh"
)

func main() {
	opts, err := leadmesh.OptionsFromEnv()
	if err != nil {
		log.Fatal(err)
	}
	email := flag.String("email", fmt.Sprintf("go-example.%d@example-analytics.com", time.Now().UnixNano()), "the lead's email")
	wait := flag.Duration("wait", 30*time.Second, "how long to wait for the lead to reach the CRM")
	flag.StringVar(&opts.Addresses.Intake, "intake", opts.Addresses.Intake, "intake address")
	flag.StringVar(&opts.Addresses.Scoring, "scoring", opts.Addresses.Scoring, "scoring address")
	flag.StringVar(&opts.Addresses.Routing, "routing", opts.Addresses.Routing, "routing address")
	flag.StringVar(&opts.Addresses.Nurture, "nurture", opts.Addresses.Nurture, "nurture address")
	flag.StringVar(&opts.Addresses.CrmSync, "crm-sync", opts.Addresses.CrmSync, "crm-sync address")
	flag.Parse()

	client, err := leadmesh.Dial(opts)
	if err != nil {
		log.Fatal(err)
	}
	defer client.Close()
	ctx := context.Background()

	submitted, err := client.Intake.SubmitLead(ctx, &intakev1.SubmitLeadRequest{
		IdempotencyKey: fmt.Sprintf("go-example-%d", time.Now().UnixNano()),
		Contact: &leadv1.Contact{Email: *email, FirstName: "Grace", LastName: "Hopper", Company: "Example Analytics",
			JobTitle: "Director of Engineering", Country: "United States", CompanySize: 1200},
		Source:   &leadv1.Source{FormId: "contact-sales", PageUrl: "https://www.example.com/pricing", UtmSource: "partner-portal"},
		Interest: &leadv1.Interest{Product: "analytics", Message: "Submitted by the Go client example"},
		Consent:  &leadv1.Consent{EmailMarketing: true, WordingVersion: "2026-01"},
	})
	if err != nil {
		log.Fatalf("SubmitLead: %v", err)
	}
	fmt.Printf("lead %s submitted (%s)\n", submitted.GetLeadId(), submitted.GetOutcome())

	journey, err := journeyOnceInCrm(ctx, client, submitted.GetLeadId(), *wait)
	if err != nil {
		log.Fatal(err)
	}
	printTimeline(journey)
	if !journey.Synced() {
		os.Exit(1)
	}
}

// The lead travels through the services in a few seconds; read its journey once the CRM has it.
func journeyOnceInCrm(ctx context.Context, client *leadmesh.Client, leadID string, wait time.Duration) (leadmesh.Journey, error) {
	deadline := time.Now().Add(wait)
	for {
		// The one line that reads the journey. Today ReadJourney asks each service (GetLead,
		// GetLeadScore, GetAssignment, GetEnrollments, GetSyncStatus); once intake serves
		// GetLeadJourney, ReadJourney calls that instead and this line stays as it is.
		journey, err := leadmesh.ReadJourney(ctx, client, leadID)
		if err != nil || journey.Synced() || time.Now().After(deadline) {
			return journey, err
		}
		time.Sleep(250 * time.Millisecond)
	}
}

func printTimeline(j leadmesh.Journey) {
	fmt.Printf("journey of lead %s:\n", j.LeadID)
	for _, e := range j.Events {
		when := "(pending)"
		if !e.At.IsZero() {
			when = e.At.UTC().Format(time.RFC3339Nano)
		}
		fmt.Printf("  %-30s  %-8s  %s\n", when, e.Service, e.Summary)
		for _, d := range e.Details {
			fmt.Printf("%44s- %s\n", "", d)
		}
	}
	for _, s := range j.NotYet {
		fmt.Printf("  not yet in: %s\n", s)
	}
	for s, err := range j.Unreachable {
		fmt.Printf("  could not ask %s: %s\n", s, err)
	}
}
