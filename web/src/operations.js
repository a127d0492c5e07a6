// The playground's default tabs: working Vitalgraph operations.
export const defaultTabs = [
  {
    query: `# A query: who you are and what you can measure.
query Overview {
  me { id email displayName role timezone }
  metrics { key name canonicalUnit direction }
  insights(first: 5) {
    totalCount
    edges { node { id metric title evidenceGrade why howConfident whatWouldChange } }
  }
}
`,
  },
  {
    query: `# A mutation: store one resting heart-rate sample (edit the day).
mutation IngestOne($input: [ObservationInput!]!) {
  ingestObservations(input: $input) { batchId received inserted duplicates replayed }
}
`,
    variables: JSON.stringify({
      input: [{ metric: 'resting_hr', value: 58, unit: 'bpm', observedAt: '2026-01-15T07:00:00Z', localDay: '2026-01-15', source: 'manual' }],
    }, null, 2),
  },
  {
    query: `# A subscription over graphql-transport-ws: every event of your feed.
# Resume after a disconnect with after: "<last cursor>".
subscription Feed {
  feed { cursor kind entityID createdAt }
}
`,
  },
];
