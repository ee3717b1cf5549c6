package syncdb

import "dicoso/sync/plan"

// specs is, table by table, everything a synced table allows: who creates,
// updates (which fields, which status moves) and deletes its rows from a
// device; who reads which rows; which fields move a row in or out of a
// reader's scope; what the server computes; which field names attachments;
// and, for reference data, who edits it over REST. Anything not granted
// here is refused (forbidden). The words it uses (author, reviewer, the
// scopes' SQL) are defined in rules.go; how a change is judged, in spec.go.
//
// Duties are plan 356-KH/TWĐTN-BKT's (sections cited); roles and the
// headquarters set are sync/plan's.
//
// It is set in init, not by its declaration, because the checks it names
// read it (a finding's cited note is judged by the notes' read scope).
var specs map[string]*Spec

func init() {
	specs = map[string]*Spec{
		// The organisation (departments, units with their history, activity
		// clusters) and the accounts: seeded from the plan and kept by the
		// administrator. The plan gives no office or department a duty to
		// change them. Everyone reads them: every role plans, logs or reviews
		// against the same units, and names people.
		"departments": {Read: everyoneReads, Admin: adminOnly("r.name, r.id")},
		"users":       {Read: everyoneReads, Admin: adminOnly("")}, // own handlers (passwords), server/api/users.go
		"clusters":    {Read: everyoneReads, Admin: adminOnly("r.name, r.id")},
		// II.3, I.1: secretaries and inspectors go below the province, to
		// communes, wards, schools and enterprises the plan does not list.
		// One of them may propose such a place from where they stand (kind
		// grassroots, under a province or central unit, at a position) and
		// correct it while it is proposed. III.1: headquarters, which
		// organise the visits, confirm it, merge it into the unit it
		// duplicates, or reject it — never a place they proposed themselves.
		// Everyone reads every place, proposed or not: the proposer's
		// check-ins name it, and others may check in there too.
		"units": {
			Create: Rule{Refused: "only a secretary or an inspector may propose a grassroots place", Grants: []Grant{
				{Who: both(author, fieldWorker), Fields: placeProposal, Moves: &placeProposerMoves,
					Checks: []Check{proposedGrassroots, placeParent, placePosition}},
			}},
			Update: Rule{Refused: "a place is corrected by its proposer while proposed, and decided by headquarters", Grants: []Grant{
				{Who: both(author, fieldWorker), When: proposedPlace, Fields: placeCorrection, Checks: []Check{placeParent, placePosition}},
				{Who: headquarter, When: grassrootsPlace, Fields: append([]string{"status", "replaced_by_id"}, placeCorrection...),
					Moves: &placeDeciderMoves, Checks: []Check{notOwnProposal, placeParent, placePosition, mergedIntoLiveUnit}},
			}},
			Status:  "status",
			Read:    everyoneReads,
			Compute: computePlace,
			Admin: &Admin{List: "r.code, r.name, r.id", Create: by(plan.RoleAdmin), Update: by(plan.RoleAdmin), Delete: by(plan.RoleAdmin),
				Decide: by(headquarters...)},
		},

		// III.1, Inspection Committee: "tham mưu xây dựng kế hoạch kiểm tra, đi
		// cơ sở" — it drafts the year's plan. Withdrawing a plan the
		// Secretariat issued is left to the administrator.
		"plans": {Read: everyoneReads, Admin: &Admin{List: "r.year, r.number, r.id",
			Create: by(plan.RoleAdmin, plan.RoleInspectionCommittee), Update: by(plan.RoleAdmin, plan.RoleInspectionCommittee), Delete: by(plan.RoleAdmin)}},

		// III.1, Inspection Committee: drafts the plan and proposes the
		// periodic and thematic inspection teams. III.1, Office: organises the
		// Secretaries' visits in Youth Month and the Summer Volunteer Campaign
		// with it — so it writes campaigns of kind "special", and no others.
		"campaigns": {Read: everyoneReads, Admin: &Admin{List: "r.starts_on, r.name, r.id",
			Create: officeSpecialCampaigns, Update: officeSpecialCampaigns, Delete: officeSpecialCampaigns}},

		// III.1, Office: Youth Month and the Summer Volunteer Campaign are its
		// to keep, with the Inspection Committee that drafts the plan.
		"special_periods": {Read: everyoneReads, Admin: &Admin{List: "r.starts_on, r.name, r.id",
			Create: by(headquarters...), Update: by(headquarters...), Delete: by(headquarters...)}},

		// III.1, Inspection Committee: proposes the founding of the inspection
		// teams (members, leader, units) and organises them.
		"teams": {Read: everyoneReads, Admin: &Admin{List: "r.name, r.id",
			Create: by(plan.RoleAdmin, plan.RoleInspectionCommittee), Update: by(plan.RoleAdmin, plan.RoleInspectionCommittee), Delete: by(plan.RoleAdmin, plan.RoleInspectionCommittee)}},

		// III.1, Inspection Committee: organises the teams — which unit
		// each visits, on which days, where and whom to meet. Members read
		// their team's schedule; a unit's liaison reads the visits to their
		// unit once a notice announcing the team is issued (III.2: the
		// provinces organise their side from it).
		"team_visits": {
			Create: Rule{Refused: "only the Inspection Committee schedules the teams", Grants: []Grant{{Who: committee, Checks: []Check{visitOfTeamUnit}}}},
			Update: Rule{Refused: "only the Inspection Committee schedules the teams", Grants: []Grant{{Who: committee, Checks: []Check{visitOfTeamUnit}}}},
			Delete: Rule{Refused: "only the Inspection Committee schedules the teams", Grants: []Grant{{Who: committee}}},
			Read:   []Scope{headquartersPlans, myTeamsVisits, liaisonAnnouncedVisits},
			Moves:  []string{"team_id", "unit_id"},
		},

		// III.1, Inspection Committee: "tham mưu thông báo thành lập các
		// đoàn kiểm tra" — it drafts the notice and issues it. An issued
		// notice never changes (a change is a new revision); drafts are
		// headquarters' own, and an issued notice reaches the teams it
		// establishes and the liaisons of their units.
		"notices": {
			Create: Rule{Refused: "only the Inspection Committee drafts a notice", Grants: []Grant{
				{Who: committee, Moves: &noticeMoves, Checks: []Check{noticeOfCampaign}},
			}},
			Update: Rule{Refused: "only the Inspection Committee drafts and issues a notice", Grants: []Grant{
				{Who: committee, When: draftNotice, Moves: &noticeMoves, Checks: []Check{noticeOfCampaign}},
			}},
			Delete: Rule{Refused: "only the Inspection Committee deletes a draft notice", Grants: []Grant{{Who: committee, When: draftNotice}}},
			Status: "status",
			Read:   []Scope{headquartersPlans, myTeamsNotices, liaisonNotices},
			Moves:  []string{"campaign_id", "team_id"},
		},

		// II.1.1, II.1.2: a cluster briefing is led by the cluster's
		// secretary and department; whoever of them (or headquarters) takes
		// the minutes records it, on a phone as in the console. The units
		// that host or attend it read it.
		"briefings": {
			Create: Rule{Refused: "only headquarters or the cluster's leading secretary and department record its briefings", Grants: []Grant{{Who: briefingRecorder}}},
			Update: Rule{Refused: "only headquarters or the cluster's leading secretary and department record its briefings", Grants: []Grant{{Who: briefingRecorder}}},
			Delete: Rule{Refused: "only headquarters or the cluster's leading secretary and department record its briefings", Grants: []Grant{{Who: briefingRecorder}}},
			Read:   []Scope{headquartersPlans, clusterLeadsBriefings, liaisonBriefings},
			Moves:  []string{"cluster_id", "host_unit_id", "unit_ids"},
		},

		// II.3: a secretary logs their trips and the days of each. A trip
		// does not end before it starts.
		"trips": {
			Create: Rule{Refused: "only the secretary who logs a trip may create it", Grants: []Grant{{Who: author, Checks: []Check{tripSpan}}}},
			Update: Rule{Refused: "only the secretary who logged a trip may change it", Grants: []Grant{{Who: author, Checks: []Check{tripSpan}}}},
			Delete: Rule{Refused: "only the secretary who logged a trip may delete it", Grants: []Grant{{Who: author}}},
			Read:   []Scope{headquartersRead, own("user_id"), tripsOfMyCampaigns, tripsToMyClusters},
			Moves:  []string{"campaign_id", "unit_ids"},
		},
		// A field day is a day spent in the field: one not yet come is refused.
		"trip_days": {
			Create: Rule{Refused: "only the owner of a trip day may create it", Grants: []Grant{{Who: author, Checks: []Check{ownTrip, notFutureDay}}}},
			Update: Rule{Refused: "only the owner of a trip day may change it", Grants: []Grant{{Who: author, Checks: []Check{ownTrip, notFutureDay}}}},
			Delete: Rule{Refused: "only the owner of a trip day may delete it", Grants: []Grant{{Who: author}}},
			Read:   []Scope{headquartersRead, own("user_id"), myClusters},
			Moves:  []string{"unit_id"},
		},

		// A check-in proves a day at a unit: append-only (sync/schema), voided
		// rather than changed. Headquarters may void anyone's. It names one
		// of its author's own trips, or none (it is listed with the trip).
		"checkins": {
			Create: Rule{Refused: "only the author may create a check-in", Grants: []Grant{{Who: author, Checks: []Check{ownTrip}}}},
			Update: Rule{Refused: "only the author may change a check-in", Grants: []Grant{
				{Who: author, Fields: voiding},
				{Who: headquarter, Fields: voiding},
			}},
			Read:        []Scope{headquartersRead, own("user_id"), teamUnitsAnyCampaign, myClusters, liaisonUnit},
			Attachments: "photo",
			Compute:     computeCheckin,
		},

		// I.1: the structured visit note. Its author writes it and moves it
		// between draft and submitted; a reviewer (headquarters, or the leader
		// of its campaign's team for its unit) asks for revision or accepts
		// it once submitted. A unit liaison reads notes (III.2), never writes.
		"visit_notes": {
			Create: Rule{Refused: "a unit liaison reads the visit notes about their unit but does not write them", Grants: []Grant{
				{Who: writer, Except: reviewFields, Moves: &noteAuthorMoves, Checks: []Check{ownTrip}},
			}},
			// Its author amends it until it is reviewed (I.1: what was
			// handed in is what is reviewed).
			Update: Rule{Refused: "only the author or a reviewer may change this note (a unit liaison reads notes, never writes them)", Grants: []Grant{
				{Who: writer, When: notReviewedNote, Except: reviewFields, Moves: &noteAuthorMoves, Checks: []Check{ownTrip}},
				{Who: noteReviewer, When: submittedNote, Fields: []string{"status", "reviewed_by", "review_comment"},
					Moves: &noteReviewerMoves, Checks: []Check{reviewedBySelf}},
			}},
			Delete:      Rule{Refused: "only the author may delete a note", Grants: []Grant{{Who: writer, When: draftNote}}},
			Status:      "status",
			Read:        []Scope{headquartersRead, headquartersQueue, own("author_id"), teamUnits, myClusters, liaisonHandedIn, departmentCited},
			Moves:       []string{"unit_id", "campaign_id", "status"},
			Attachments: "attachments",
		},

		// III.1: findings are compiled by the Inspection Committee, which
		// triages them with the Office (department, due date, status, answer);
		// the assigned movement department works them (status, answer).
		// Recommendations raised at a cluster briefing are findings naming
		// the briefing (II.1, III.1: the Office compiles and answers them),
		// written by whoever records the briefing.
		"findings": {
			Create: Rule{Refused: "a unit liaison reads the findings about their unit but does not write them", Grants: []Grant{
				{Who: writer, Checks: []Check{citesReadableNote, findingsNote, briefingFinding}},
			}},
			// Its author corrects or deletes it while its note is open (a
			// draft or sent back: I.1, what was handed in is what is
			// reviewed), and moves its status (a follow-up) at any time. A
			// finding is added to a note until the note is reviewed, and
			// moved only onto an open note.
			Update: Rule{Refused: "you may not change this finding", Grants: []Grant{
				{Who: writer, When: findingNoteOpen, Checks: []Check{citesReadableNote, findingsNote, briefingFinding}},
				{Who: writer, Fields: []string{"status"}},
				{Who: headquarter, Fields: []string{"department_id", "status", "due_on", "answer"}},
				{Who: assignedDepartment, Fields: []string{"status", "answer"}},
			}},
			Delete: Rule{Refused: "only the author may delete a finding while its note is open", Grants: []Grant{{Who: writer, When: findingNoteOpen}}},
			// A liaison reads a finding with its note: never on a draft.
			Read: []Scope{headquartersRead, headquartersOpen, own("author_id"), teamUnits, myClusters, liaisonFollowsNote, departmentAssigned,
				clusterLeadsRecommendations},
			Parent: &Parent{Table: "visit_notes", Field: "note_id"},
			Moves:  []string{"note_id", "unit_id", "campaign_id", "department_id", "briefing_id", "status"},
		},

		// III.1: a finding is followed up by its author, its department or
		// headquarters; the history is append-only (sync/schema).
		"follow_ups": {
			Create: Rule{Refused: "only the finding's author, its department or headquarters may follow it up", Grants: []Grant{
				{Who: both(author, headquarter)},
				{Who: both(author, findingAuthor)},
				{Who: both(author, findingDepartment)},
			}},
			Read:   []Scope{headquartersRead, own("author_id"), withItsFinding},
			Parent: &Parent{Table: "findings", Field: "finding_id"},
		},

		// I.1, III.1: every review round of a note is kept — who decided,
		// when, what and why — beside the note's latest status. A reviewer
		// of the note records it (append-only, sync/schema); it is read with
		// its note, by the author on their phone as by headquarters.
		"reviews": {
			Create: Rule{Refused: "only a reviewer of the note may record a review of it", Grants: []Grant{
				{Who: both(author, reviewerOfItsNote), Checks: []Check{reviewsHandedInNote, reasonWhenSentBack}},
			}},
			Read:   []Scope{headquartersRead, own("reviewer_id"), withItsNote},
			Parent: &Parent{Table: "visit_notes", Field: "note_id"},
		},
	}
	if err := validateSpecs(specs); err != nil {
		panic("syncdb: " + err.Error()) // a programming error, caught by any test
	}
}

// headquarters read and review everything (sync/plan).
var headquarters = plan.AllSeeingRoles()

// The transition table of a visit note's status, by the status its writer
// had seen ("" for a new note): the author drafts, submits, may take a
// submitted note back, and resubmits after a revision request; a reviewer
// sends a submitted note back for revision or accepts it, and may change
// that decision. Anything not listed is refused.
var (
	noteAuthorMoves = Moves{
		Says: "its author drafts and submits it, may take it back while submitted, and resubmits it after a revision request",
		From: map[string][]string{
			"":               {"draft", "submitted"},
			"draft":          {"draft", "submitted"},
			"submitted":      {"draft", "submitted"},
			"needs_revision": {"submitted"},
		},
	}
	noteReviewerMoves = Moves{
		Says: "a reviewer sets only needs_revision or reviewed, on a submitted note",
		From: map[string][]string{
			"submitted":      {"needs_revision", "reviewed"},
			"needs_revision": {"needs_revision", "reviewed"},
			"reviewed":       {"needs_revision", "reviewed"},
		},
	}
)

// A grassroots place: what its proposer writes when proposing it, and may
// correct while it is proposed.
var (
	placeProposal   = []string{"name", "kind", "parent_id", "lat", "lng", "status", "proposed_by"}
	placeCorrection = []string{"name", "parent_id", "lat", "lng"}
)

// The standing of a place: its proposer proposes it; headquarters confirm,
// merge or reject it, and may change that decision (a place rejected by
// mistake is confirmed after all). Nobody puts a place back to proposed.
var (
	placeProposerMoves = Moves{
		Says: "a place proposed from the field starts as proposed",
		From: map[string][]string{"": {"proposed"}},
	}
	placeDeciderMoves = Moves{
		Says: "headquarters confirm, merge or reject a place",
		From: map[string][]string{
			"proposed":  {"confirmed", "merged", "rejected"},
			"confirmed": {"confirmed", "merged", "rejected"},
			"merged":    {"confirmed", "merged", "rejected"},
			"rejected":  {"confirmed", "merged", "rejected"},
		},
	}
)

// tripSpan: a trip ends no earlier than it starts.
var tripSpan = endsNotBeforeStart("trip")

// Fields of a visit note only a reviewer writes.
var reviewFields = []string{"reviewed_by", "review_comment"}

// Fields of a check-in that void it.
var voiding = []string{"voided", "void_reason"}

// Reference data: everyone logged in reads all of it.
var everyoneReads = []Scope{{Name: "everyone", SQL: "TRUE"}}

func by(roles ...string) Access { return Access{Roles: roles} }

func adminOnly(list string) *Admin {
	return &Admin{List: list, Create: by(plan.RoleAdmin), Update: by(plan.RoleAdmin), Delete: by(plan.RoleAdmin)}
}

// officeSpecialCampaigns: admins and the Inspection Committee write any
// campaign; the Office only those of kind "special" (before and after the
// change, so it can neither touch a periodic or thematic round nor turn
// one into its own).
var officeSpecialCampaigns = Access{
	Roles:    []string{plan.RoleAdmin, plan.RoleInspectionCommittee},
	RowRoles: []string{plan.RoleOffice},
	Row: func(before, after map[string]any) error {
		for _, row := range []map[string]any{before, after} {
			if row != nil && row["kind"] != "special" {
				return errOfficeCampaign
			}
		}
		return nil
	},
}
