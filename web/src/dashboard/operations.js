// Every GraphQL operation of the dashboard, in one module: a schema rename is
// a one-file edit here.

const insightFields = `
  id metric kind status title summary direction startDay endDay createdAt
  evidenceGrade confidence sampleSize coverage why howConfident whatWouldChange
`;

const evaluationFields = `
  id createdAt metric effect effectItt ciLow ciHigh effectPercent ciLowPercent ciHighPercent
  mde reliable claim directionSupported interim adherence evidenceGrade confidence sampleSize
  reasons caveats
  baselineWindow { from to } interventionWindow { from to }
  evidence { grade why howConfident whatWouldChange }
  narrative { id text safetyText evidenceGrade }
`;

const interventionFields = `
  id title protocolKind targetMetric expectedDirection plannedDays lagDays status statusReason
  startDay endDay riskLevel evidenceGrade safetyBoundary requiresReview mde design retrospective
  schedule { day cycle arm washout }
  evaluations(first: 1, orderBy: [{ field: CREATED_AT, direction: DESC }]) { edges { node { ${evaluationFields} } } }
`;

const authFields = 'accessToken refreshToken expiresAt user { id email role displayName }';

export const SIGN_UP = `mutation SignUp($email: String!, $password: String!) {
  signUp(email: $email, password: $password) { ${authFields} }
}`;

export const SIGN_IN = `mutation SignIn($email: String!, $password: String!) {
  signIn(email: $email, password: $password) { ${authFields} }
}`;

export const REFRESH = `mutation Refresh($token: String!) {
  refreshToken(token: $token) { ${authFields} }
}`;

export const SIGN_OUT = `mutation SignOut($token: String!) { signOut(refreshToken: $token) }`;

export const INSIGHTS = `query Insights {
  insights(first: 100, orderBy: [{ field: CREATED_AT, direction: DESC }]) {
    edges { node { ${insightFields} } }
  }
}`;

export const METRICS = `query Metrics { metrics { key name canonicalUnit direction } }`;

// Pages hold at most 100 items: the client follows pageInfo.endCursor.
export const OBSERVATIONS_PAGE = `query Observations($metric: String!, $after: Cursor) {
  page: observations(first: 100, after: $after, where: { metric: $metric }, orderBy: [{ field: LOCAL_DAY, direction: DESC }]) {
    edges { node { localDay value missing flags } }
    pageInfo { hasNextPage endCursor }
  }
}`;

export const METRIC_CONTEXT = `query MetricContext($metric: String!) {
  baselines(metric: $metric) { asOfDay bandLow bandHigh median state }
  insights(first: 30, where: { metric: $metric, kind: ANOMALY }) {
    edges { node { id startDay endDay } }
  }
}`;

export const OBSERVED_METRICS = `query ObservedMetrics {
  observations(first: 1, orderBy: [{ field: CREATED_AT, direction: DESC }]) { totalCount }
  baselines { metric }
}`;

export const INTERVENTIONS = `query Interventions {
  interventions(first: 20, orderBy: [{ field: CREATED_AT, direction: DESC }]) {
    edges { node { ${interventionFields} } }
  }
}`;

export const ADHERENCE_PAGE = `query Adherence($id: ID!, $after: Cursor) {
  node(id: $id) { ... on Intervention { id page: adherenceLogs(first: 100, after: $after) {
    edges { node { day adherent } }
    pageInfo { hasNextPage endCursor }
  } } }
}`;

// What startIntervention would do (MDE, schedule, safety decision), read-only:
// the form shows it before the Start button is enabled.
export const PLAN_INTERVENTION = `query PlanIntervention($input: StartInterventionInput!) {
  planIntervention(input: $input) {
    minimumDetectableEffect unit plannedDays lagDays startDay design retrospective status message
    safetyDecision { riskLevel requiresReview boundary }
    schedule { day cycle arm washout }
  }
}`;

export const START_INTERVENTION = `mutation Start($input: StartInterventionInput!) {
  startIntervention(input: $input) {
    minimumDetectableEffect started message
    intervention { ${interventionFields} }
  }
}`;

export const LOG_ADHERENCE = `mutation LogAdherence($id: ID!, $day: String!, $adherent: Boolean!, $note: String) {
  logAdherence(interventionID: $id, day: $day, adherent: $adherent, note: $note) { id }
}`;

export const EVALUATE = `mutation Evaluate($id: ID!) {
  evaluateIntervention(id: $id) { ${evaluationFields} }
}`;

const auditFields = 'auditTrail(first: 50) { totalCount edges { node { id seq createdAt action decision reason actor } } }';

// The audit trail of an insight, experiment or evaluation (by global id).
export const AUDIT_TRAIL = `query AuditTrail($id: ID!) {
  node(id: $id) {
    ... on Insight { ${auditFields} }
    ... on Intervention { ${auditFields} }
    ... on Evaluation { ${auditFields} }
  }
}`;

export const REVIEW_QUEUE = `query ReviewQueue {
  pendingReviews(first: 50) {
    edges { node { id title protocolKind targetMetric riskLevel safetyBoundary statusReason createdAt } }
  }
}`;

export const APPROVE = `mutation Approve($id: ID!, $reason: String!) {
  approveIntervention(id: $id, reason: $reason) { id status }
}`;

export const REJECT = `mutation Reject($id: ID!, $reason: String!) {
  rejectIntervention(id: $id, reason: $reason) { id status }
}`;

export const CANCEL = `mutation Cancel($id: ID!, $reason: String) {
  cancelIntervention(id: $id, reason: $reason) { id status }
}`;

export const INSIGHT_FEED = `subscription InsightFeed($after: FeedCursor) {
  insightCreated(after: $after) { cursor insight { ${insightFields} } }
}`;
