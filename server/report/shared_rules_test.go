package report_test

import (
	"slices"
	"testing"

	"dicoso/server/auth"
	"dicoso/server/syncdb"
	"dicoso/sync/plan"
)

// The server's own names for the shared rules are the plan's: the merge
// flags check-ins by the radius the phones judge unsent ones by, under the
// flag names the tally reads, and the accounts hold the plan's roles.
func TestServerUsesThePlansRules(t *testing.T) {
	t.Parallel()
	if syncdb.FarFromUnitMeters != plan.NearUnitMeters {
		t.Errorf("the merge flags check-ins beyond %d m, the plan says %d m", syncdb.FarFromUnitMeters, plan.NearUnitMeters)
	}
	if syncdb.FlagFarFromUnit != plan.FlagFarFromUnit || syncdb.FlagNoPosition != plan.FlagNoPosition {
		t.Errorf("the merge's flags %q, %q; the tally reads %q, %q",
			syncdb.FlagFarFromUnit, syncdb.FlagNoPosition, plan.FlagFarFromUnit, plan.FlagNoPosition)
	}
	accounts := []string{auth.RoleAdmin, auth.RoleInspectionCommittee, auth.RoleOffice, auth.RoleDepartment,
		auth.RoleSecretary, auth.RoleInspector, auth.RoleUnitLiaison}
	if !slices.Equal(accounts, plan.Roles()) {
		t.Errorf("accounts take the roles %v, the plan names %v", accounts, plan.Roles())
	}
	for _, r := range plan.Roles() {
		if !auth.IsRole(r) {
			t.Errorf("an account may not hold the plan's role %q", r)
		}
	}
}
