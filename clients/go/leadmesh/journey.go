package leadmesh

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	crmsyncv1 "github.com/leadmesh/leadmesh/clients/go/gen/leadmesh/crmsync/v1"
	intakev1 "github.com/leadmesh/leadmesh/clients/go/gen/leadmesh/intake/v1"
	leadv1 "github.com/leadmesh/leadmesh/clients/go/gen/leadmesh/lead/v1"
	nurturev1 "github.com/leadmesh/leadmesh/clients/go/gen/leadmesh/nurture/v1"
	routingv1 "github.com/leadmesh/leadmesh/clients/go/gen/leadmesh/routing/v1"
	scoringv1 "github.com/leadmesh/leadmesh/clients/go/gen/leadmesh/scoring/v1"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// Event is one step of a lead's journey. At is zero for what has not happened yet.
type Event struct {
	At      time.Time
	Service string
	Summary string
	Details []string
}

// Journey is a lead's story across the five services, oldest first.
type Journey struct {
	LeadID string
	Events []Event
	// Services that do not know the lead yet (NOT_FOUND).
	NotYet []string
	// Services that could not be asked, with the error.
	Unreachable map[string]string
}

// Synced reports whether the CRM holds the lead.
func (j Journey) Synced() bool {
	for _, e := range j.Events {
		if e.Service == "crm-sync" && strings.HasPrefix(e.Summary, "synced") {
			return true
		}
	}
	return false
}

// ReadJourney assembles the journey from each service's own read (GetLead, GetLeadScore,
// GetAssignment, GetEnrollments, GetSyncStatus). Once intake serves GetLeadJourney, this function
// calls it instead and its callers stay as they are.
func ReadJourney(ctx context.Context, c *Client, leadID string) (Journey, error) {
	j := Journey{LeadID: leadID, Unreachable: map[string]string{}}
	ask := func(service string, err error) bool {
		switch {
		case err == nil:
			return true
		case status.Code(err) == codes.NotFound:
			j.NotYet = append(j.NotYet, service)
		default:
			j.Unreachable[service] = err.Error()
		}
		return false
	}
	if r, err := c.Intake.GetLead(ctx, &intakev1.GetLeadRequest{LeadId: leadID}); ask("intake", err) {
		j.add(intakeEvents(r.GetLead())...)
	}
	if r, err := c.Scoring.GetLeadScore(ctx, &scoringv1.GetLeadScoreRequest{LeadId: leadID}); ask("scoring", err) {
		for i := len(r.GetHistory()) - 1; i >= 0; i-- {
			j.add(scoreEvent(r.GetHistory()[i], "scored"))
		}
		label := "scored"
		if len(r.GetHistory()) > 0 {
			label = "rescored"
		}
		j.add(scoreEvent(r.GetScore(), label))
	}
	if r, err := c.Routing.GetAssignment(ctx, &routingv1.GetAssignmentRequest{LeadId: leadID}); ask("routing", err) {
		a := r.GetAssignment()
		j.add(Event{At: at(a.GetAssignedAt()), Service: "routing", Summary: fmt.Sprintf("assigned to %s (team %s) by rule %s", a.GetOwnerName(), a.GetTeamId(), a.GetRuleId()), Details: nonEmpty(a.GetReason())})
	}
	if r, err := c.Nurture.GetEnrollments(ctx, &nurturev1.GetEnrollmentsRequest{LeadId: leadID}); ask("nurture", err) {
		for _, e := range r.GetEnrollments() {
			j.add(Event{At: at(e.GetEnrolledAt()), Service: "nurture", Summary: fmt.Sprintf("enrolled in track %s v%s", e.GetTrackId(), e.GetTrackVersion()), Details: nonEmpty(e.GetReason())})
			for _, s := range e.GetSteps() {
				when := at(s.GetDueAt())
				if s.GetStatus() == nurturev1.StepStatus_STEP_STATUS_SENT {
					when = at(s.GetSentAt())
				}
				j.add(Event{At: when, Service: "nurture", Summary: fmt.Sprintf("email %s %s", s.GetTemplate(), enumWord(s.GetStatus().String(), "STEP_STATUS_"))})
			}
		}
	}
	if r, err := c.CrmSync.GetSyncStatus(ctx, &crmsyncv1.GetSyncStatusRequest{LeadId: leadID}); ask("crm-sync", err) {
		rec := r.GetRecord()
		if rec.GetStatus() == crmsyncv1.SyncStatus_SYNC_STATUS_SYNCED {
			j.add(Event{At: at(rec.GetSyncedAt()), Service: "crm-sync", Summary: fmt.Sprintf("synced to the CRM as %s (%d ms after it was received)", rec.GetCrmId(), rec.GetLatencyMs())})
		} else {
			j.add(Event{Service: "crm-sync", Summary: "CRM sync " + enumWord(rec.GetStatus().String(), "SYNC_STATUS_"), Details: nonEmpty(rec.GetLastError())})
		}
	}
	sort.SliceStable(j.Events, func(a, b int) bool { return before(j.Events[a].At, j.Events[b].At) })
	return j, nil
}

func intakeEvents(l *intakev1.Lead) []Event {
	c := l.GetProfile().GetContact()
	consent := "no consent given"
	if l.GetProfile().GetConsent().GetEmailMarketing() {
		consent = "email marketing consent: yes"
	}
	return []Event{{At: at(l.GetReceivedAt()), Service: "intake", Summary: fmt.Sprintf("lead received (%s, %s, %s)", c.GetEmail(), c.GetCompany(), c.GetCountry()), Details: []string{consent}}}
}

func scoreEvent(s *leadv1.LeadScore, label string) Event {
	e := Event{At: at(s.GetScoredAt()), Service: "scoring", Summary: fmt.Sprintf("%s %s (fit %d, engagement %d), stage %s, rule set %s", label, s.GetGrade(), s.GetFitScore(), s.GetEngagementScore(), strings.ToUpper(enumWord(s.GetLifecycleStage().String(), "LIFECYCLE_STAGE_")), s.GetRuleSetVersion())}
	for _, r := range s.GetReasons() {
		e.Details = append(e.Details, fmt.Sprintf("%+d %s %s", r.GetPoints(), r.GetRuleId(), r.GetExplanation()))
	}
	return e
}

func (j *Journey) add(e ...Event) { j.Events = append(j.Events, e...) }

func at(ts *timestamppb.Timestamp) time.Time {
	if ts == nil || (ts.GetSeconds() == 0 && ts.GetNanos() == 0) {
		return time.Time{}
	}
	return ts.AsTime()
}

// Undated events (still to happen) sort last.
func before(a, b time.Time) bool {
	if a.IsZero() || b.IsZero() {
		return !a.IsZero() && b.IsZero()
	}
	return a.Before(b)
}

func enumWord(name, prefix string) string {
	return strings.ReplaceAll(strings.ToLower(strings.TrimPrefix(name, prefix)), "_", " ")
}

func nonEmpty(s ...string) []string {
	var out []string
	for _, v := range s {
		if v != "" {
			out = append(out, v)
		}
	}
	return out
}
