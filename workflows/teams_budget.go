package workflows

// Teams allows an app twenty GET channel message requests a second per
// tenant, over all its teams ("Microsoft Teams service limits",
// https://learn.microsoft.com/graph/throttling-limits#microsoft-teams-service-limits).
// Workers reading channel messages of a tenant share that budget as they
// share SharePoint's resource units: a DriveBudgetWorkflow under
// TeamsBudgetWorkflowID leases it out, one unit a read.
const TeamsMessageReadsPerMinute = 20 * 60

// TeamsBudgetWorkflowID names the budget workflow of an app's channel
// message reads in a tenant.
func TeamsBudgetWorkflowID(tenantID, clientID string) string {
	return "corso-teams-budget-" + tenantID + "-" + clientID
}
