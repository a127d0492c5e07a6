// The Vitalgraph dashboard: a Preact single-page app served by the binary.
import { h, render, Fragment } from 'preact';
import { useEffect, useState, useCallback } from 'preact/hooks';
import { gql, pages, session, subscribeFeed } from './api.js';
import * as op from './operations.js';
import { MetricChart, IntervalPlot } from './charts.jsx';
import 'uplot/dist/uPlot.min.css';
import './dashboard.css';

const PROTOCOLS = ['CAFFEINE_CUTOFF', 'SLEEP_SCHEDULE', 'SCREEN_CURFEW', 'ALCOHOL_REDUCTION', 'EXERCISE_TIMING',
  'MEDITATION', 'FASTING', 'SUPPLEMENT', 'COLD_EXPOSURE', 'TRAINING_LOAD_INCREASE', 'MEDICATION_CHANGE'];

const today = () => new Date().toISOString().slice(0, 10);
const fmt = (x, d = 2) => (x == null ? '—' : Number(x).toFixed(d));
const pct = (x) => (x == null ? '—' : `${Math.round(x * 100)}%`);
const human = (s) => String(s || '').toLowerCase().replaceAll('_', ' ');

function useAsync(fn, deps) {
  const [state, set] = useState({ loading: true, data: null, error: null });
  const load = useCallback(() => {
    set((s) => ({ ...s, loading: true }));
    return fn().then((data) => set({ loading: false, data, error: null }),
      (error) => set({ loading: false, data: null, error }));
  }, deps);
  useEffect(() => { load(); }, [load]);
  return [state, load];
}

function ErrorText({ error }) {
  if (!error) return null;
  return <p class="error" role="alert">{error.message}{error.code ? ` (${error.code})` : ''}</p>;
}

function Grade({ grade }) {
  return <span class={`grade grade-${grade}`} aria-label={`Evidence grade ${grade}`} title={`Evidence grade ${grade}`}>{grade}</span>;
}

// ---- sign up / sign in ----------------------------------------------------

function AuthForm({ onSignedIn }) {
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const submit = async (e, mode) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const data = await gql(mode === 'up' ? op.SIGN_UP : op.SIGN_IN, { email, password });
      const auth = mode === 'up' ? data.signUp : data.signIn;
      session.set(auth);
      onSignedIn(auth.user);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return (
    <main class="auth" id="main">
      <h1>Vitalgraph</h1>
      <form id="auth-form" onSubmit={(e) => submit(e, 'in')} aria-labelledby="auth-title">
        <h2 id="auth-title">Sign in or create an account</h2>
        <label for="email">Email</label>
        <input id="email" type="email" autocomplete="username" required value={email} onInput={(e) => setEmail(e.currentTarget.value)} />
        <label for="password">Password (10 to 256 characters)</label>
        <input id="password" type="password" autocomplete="current-password" required minLength={10} maxLength={256}
          value={password} onInput={(e) => setPassword(e.currentTarget.value)} />
        <div class="row">
          <button type="submit" id="sign-in" disabled={busy}>Sign in</button>
          <button type="button" id="sign-up" disabled={busy} onClick={(e) => submit(e, 'up')}>Sign up</button>
        </div>
        <ErrorText error={error} />
      </form>
    </main>
  );
}

// ---- audit trail ------------------------------------------------------------

function AuditTrail({ entityID }) {
  const [open, setOpen] = useState(false);
  const [state, setState] = useState({ events: null, error: null });
  const toggle = async () => {
    const next = !open;
    setOpen(next);
    if (next) {
      try {
        const d = await gql(op.AUDIT_TRAIL, { id: entityID });
        setState({ events: (d.node?.auditTrail?.edges || []).map((e) => e.node), error: null });
      } catch (error) {
        setState({ events: null, error });
      }
    }
  };
  return (
    <div class="audit">
      <button type="button" class="link" aria-expanded={open} onClick={toggle}>Audit trail</button>
      {open && (
        <div class="audit-list" aria-live="polite">
          <ErrorText error={state.error} />
          {state.events && !state.events.length && <p>No audit events.</p>}
          {state.events && state.events.length > 0 && (
            <ol>
              {state.events.map((e) => (
                <li key={e.id}><time dateTime={e.createdAt}>{new Date(e.createdAt).toLocaleString()}</time>{' '}
                  <strong>{e.action}</strong> {e.decision} by {e.actor}{e.reason ? ` — ${e.reason}` : ''}</li>
              ))}
            </ol>
          )}
        </div>
      )}
    </div>
  );
}

// ---- insights and the live feed --------------------------------------------

function InsightCard({ insight, cursor }) {
  return (
    <article class="card insight" data-insight-id={insight.id} data-cursor={cursor || ''} aria-labelledby={`t-${insight.id}`}>
      <header class="row">
        <Grade grade={insight.evidenceGrade} />
        <h3 id={`t-${insight.id}`}>{insight.title}</h3>
      </header>
      <p class="meta">{insight.metric} · {human(insight.kind)} · {insight.startDay}{insight.endDay !== insight.startDay ? ` to ${insight.endDay}` : ''} · {human(insight.status)}</p>
      <p>{insight.summary}</p>
      <dl class="evidence">
        <dt>Why</dt><dd>{insight.why}</dd>
        <dt>How confident</dt><dd>{insight.howConfident} ({pct(insight.confidence)}, {insight.sampleSize} days, {pct(insight.coverage)} coverage)</dd>
        <dt>What would change it</dt><dd>{insight.whatWouldChange}</dd>
      </dl>
      <AuditTrail entityID={insight.id} />
    </article>
  );
}

function Insights({ user, onLive }) {
  const [items, setItems] = useState([]); // [{insight, cursor}]
  const [delivered, setDelivered] = useState([]); // cursors received live, in order
  const [status, setStatus] = useState('connecting');
  const [error, setError] = useState(null);
  useEffect(() => {
    let stop = () => {};
    let cancelled = false;
    const merge = (list) => setItems((prev) => {
      const seen = new Set(prev.map((p) => p.insight.id));
      const fresh = list.filter((p) => !seen.has(p.insight.id));
      return [...fresh, ...prev].sort((a, b) => (a.insight.createdAt < b.insight.createdAt ? 1 : -1));
    });
    gql(op.INSIGHTS).then((d) => {
      if (cancelled) return;
      merge(d.insights.edges.map((e) => ({ insight: e.node, cursor: '' })));
      stop = subscribeFeed({
        query: op.INSIGHT_FEED,
        field: 'insightCreated',
        after: '0', // replays what this page has not seen, then live
        onStatus: setStatus,
        onItem: (item) => {
          setDelivered((d) => [...d, item.cursor]);
          onLive();
          setItems((prev) => {
            const rest = prev.filter((p) => p.insight.id !== item.insight.id);
            return [{ insight: item.insight, cursor: item.cursor }, ...rest];
          });
        },
      });
    }, setError);
    return () => { cancelled = true; stop(); };
  }, [user.id]);
  return (
    <section id="insights" aria-labelledby="insights-title">
      <div class="row between">
        <h2 id="insights-title">Insights</h2>
        <span id="feed-status" class={`status status-${status}`} role="status" aria-live="polite">
          {status === 'live' ? 'Live' : status === 'reconnecting' ? 'Reconnecting…' : 'Connecting…'}
        </span>
      </div>
      <ErrorText error={error} />
      <p id="feed-count" class="meta" data-cursors={delivered.join(',')}>
        {delivered.length} live update{delivered.length === 1 ? '' : 's'} received{delivered.length ? `, up to cursor ${delivered[delivered.length - 1]}` : ''}.
      </p>
      {!items.length && <p>No insights yet: they appear here as soon as the engine finds one.</p>}
      <div id="insight-list">
        {items.map((p) => <InsightCard key={p.insight.id} insight={p.insight} cursor={p.cursor} />)}
      </div>
    </section>
  );
}

// ---- metrics ------------------------------------------------------------------

function Metrics({ refreshKey }) {
  const [state] = useAsync(() => Promise.all([gql(op.OBSERVED_METRICS), gql(op.METRICS)]), [refreshKey]);
  const [metric, setMetric] = useState('');
  const data = state.data;
  const observed = data ? [...new Set(data[0].baselines.map((b) => b.metric))].sort() : [];
  const info = data ? Object.fromEntries(data[1].metrics.map((m) => [m.key, m])) : {};
  const shown = metric || observed[0] || '';
  return (
    <section id="metrics" aria-labelledby="metrics-title">
      <h2 id="metrics-title">Metrics</h2>
      <ErrorText error={state.error} />
      {data && !observed.length && <p>No data yet: ingest observations through the API.</p>}
      {observed.length > 0 && (
        <>
          <label for="metric-select">Metric</label>
          <select id="metric-select" value={shown} onChange={(e) => setMetric(e.currentTarget.value)}>
            {observed.map((k) => <option key={k} value={k}>{info[k]?.name || k}</option>)}
          </select>
          <MetricChart metric={shown} info={info[shown]} refreshKey={refreshKey} />
        </>
      )}
    </section>
  );
}

// ---- experiments ----------------------------------------------------------

function StartForm({ metrics, onStarted }) {
  const [form, setForm] = useState({ title: '', protocolKind: 'CAFFEINE_CUTOFF', targetMetric: '', expectedDirection: 'INCREASE', design: 'BASELINE_AB', plannedDays: 21, cycles: 4, blockDays: 7, startDay: today() });
  const [result, setResult] = useState(null);
  const [plan, setPlan] = useState(null);
  const [error, setError] = useState(null);
  // A functional update: two edits before the next render must not undo
  // each other (a stale `form` would drop the first one).
  const set = (k) => (e) => {
    const v = e.currentTarget.value;
    setForm((f) => ({ ...f, [k]: v }));
  };
  const target = form.targetMetric || metrics[0]?.key || '';
  const input = { ...form, targetMetric: target, plannedDays: Number(form.plannedDays), cycles: Number(form.cycles), blockDays: Number(form.blockDays) };
  // A crossover's length is cycles × 2 × blockDays; a before/after plan has no cycles.
  if (input.design === 'CROSSOVER') delete input.plannedDays;
  else { delete input.cycles; delete input.blockDays; }
  if (!input.startDay) delete input.startDay;
  // The plan shown is for exactly the current input: any edit disables Start
  // until the minimum detectable effect of the edited plan has been shown.
  const key = JSON.stringify(input);
  const planned = plan && plan.key === key ? plan.data : null;
  const check = async () => {
    setError(null);
    try {
      const d = await gql(op.PLAN_INTERVENTION, { input });
      setPlan({ key, data: d.planIntervention });
    } catch (err) {
      setPlan(null);
      setError(err);
    }
  };
  const submit = async (e) => {
    e.preventDefault();
    if (!planned) {
      await check();
      return;
    }
    setError(null);
    try {
      const d = await gql(op.START_INTERVENTION, { input });
      setResult(d.startIntervention);
      onStarted();
    } catch (err) {
      setError(err);
    }
  };
  const unit = metrics.find((m) => m.key === target)?.canonicalUnit || '';
  return (
    <form id="start-form" class="card" onSubmit={submit} aria-labelledby="start-title">
      <h3 id="start-title">Start an experiment</h3>
      <label for="x-title">Title</label>
      <input id="x-title" required value={form.title} onInput={set('title')} />
      <label for="x-protocol">Protocol</label>
      <select id="x-protocol" value={form.protocolKind} onChange={set('protocolKind')}>
        {PROTOCOLS.map((p) => <option key={p} value={p}>{human(p)}</option>)}
      </select>
      <label for="x-metric">Target metric</label>
      <select id="x-metric" value={target} onChange={set('targetMetric')}>
        {metrics.map((m) => <option key={m.key} value={m.key}>{m.name}</option>)}
      </select>
      <label for="x-direction">Expected direction</label>
      <select id="x-direction" value={form.expectedDirection} onChange={set('expectedDirection')}>
        <option value="INCREASE">increase</option><option value="DECREASE">decrease</option>
      </select>
      <label for="x-design">Design</label>
      <select id="x-design" value={form.design} onChange={set('design')}>
        <option value="BASELINE_AB">before and after (the 28 days before vs the days after)</option>
        <option value="CROSSOVER">randomized crossover (on and off blocks in a random order; drift cancels)</option>
      </select>
      {form.design === 'CROSSOVER' ? (
        <>
          <label for="x-cycles">Cycles (3 to 26; each has one block on and one off)</label>
          <input id="x-cycles" type="number" min={3} max={26} value={form.cycles} onInput={set('cycles')} />
          <label for="x-block">Days per block (the first days of each block are a washout, not analysed)</label>
          <input id="x-block" type="number" min={3} value={form.blockDays} onInput={set('blockDays')} />
        </>
      ) : (
        <>
          <label for="x-days">Planned days (7 to 180, including the lag)</label>
          <input id="x-days" type="number" min={7} max={180} value={form.plannedDays} onInput={set('plannedDays')} />
        </>
      )}
      <label for="x-start">First day (a past day makes it a retrospective look back)</label>
      <input id="x-start" type="date" value={form.startDay} onInput={set('startDay')} />
      <button type="button" id="plan-button" onClick={check}>Show the minimum detectable effect</button>
      {planned && (
        <div id="plan-result" role="status">
          <p class="mde"><strong>Minimum detectable effect: {fmt(planned.minimumDetectableEffect)} {planned.unit}</strong> — the smallest change this plan can detect with 80% power. Smaller true effects will likely read as “no clear effect”.</p>
          <p>{planned.plannedDays} days from {planned.startDay}, the first {planned.lagDays} not analysed (lag).{planned.retrospective ? ' A retrospective look back: observational, graded at most C.' : ''}</p>
          <p>{planned.safetyDecision.requiresReview ? `${human(planned.safetyDecision.riskLevel)} risk: it will wait for human review before it can start.` : `${human(planned.safetyDecision.riskLevel)} risk.`} {planned.message}</p>
          {planned.design === 'CROSSOVER' && <p>Which block of each cycle gets the intervention is drawn at random when you start.</p>}
          <Schedule days={planned.schedule} />
        </div>
      )}
      <button type="submit" id="start-button" disabled={!planned} title={planned ? '' : 'Show the minimum detectable effect first'}>Start</button>
      <ErrorText error={error} />
      {result && (
        <div id="start-result" role="status">
          <p class="mde"><strong>Minimum detectable effect: {fmt(result.minimumDetectableEffect)} {unit}</strong> — the smallest change this plan can detect with 80% power.</p>
          <p>{result.started ? 'Started.' : 'Not started.'} {result.message}</p>
        </div>
      )}
    </form>
  );
}

function Schedule({ days }) {
  if (!days.length) return <p>No schedule until the experiment starts.</p>;
  return (
    <details class="schedule">
      <summary>Day-by-day schedule ({days.length} days)</summary>
      <div class="table-wrap">
        <table>
          <thead><tr><th scope="col">Day</th><th scope="col">Cycle</th><th scope="col">Arm</th><th scope="col">Analysed</th></tr></thead>
          <tbody>
            {days.map((d) => <tr key={d.day}><td>{d.day}</td><td>{d.cycle}</td><td>{d.arm === 'UNDRAWN' ? 'not drawn yet' : human(d.arm)}</td><td>{d.washout ? 'no (washout/lag)' : 'yes'}</td></tr>)}
          </tbody>
        </table>
      </div>
    </details>
  );
}

function Adherence({ x, onChange }) {
  const [logs, reload] = useAsync(() => pages(op.ADHERENCE_PAGE, { id: x.id }, 2), [x.id]);
  const logged = new Map((logs.data || []).map((n) => [n.day, n.adherent]));
  const changed = () => { reload(); onChange(); };
  const days = x.schedule.map((d) => d.day).filter((d) => d <= today());
  const firstOpen = days.find((d) => !logged.has(d)) || days[days.length - 1] || '';
  const [day, setDay] = useState('');
  const [adherent, setAdherent] = useState(true);
  const [error, setError] = useState(null);
  const submit = async (e) => {
    e.preventDefault();
    setError(null);
    try {
      await gql(op.LOG_ADHERENCE, { id: x.id, day: day || firstOpen, adherent });
      changed();
    } catch (err) { setError(err); }
  };
  const logAll = async () => {
    setError(null);
    try {
      for (const d of days.filter((d) => !logged.has(d))) await gql(op.LOG_ADHERENCE, { id: x.id, day: d, adherent: true });
      changed();
    } catch (err) { setError(err); }
  };
  if (!days.length) return null;
  if (!logs.data) return <ErrorText error={logs.error} />;
  return (
    <form class="adherence" onSubmit={submit} aria-label={`Log adherence for ${x.title}`}>
      <p class="adherence-count">Adherence logged for {logged.size} of {days.length} days so far.</p>
      <label for={`day-${x.id}`}>Day</label>
      <select id={`day-${x.id}`} value={day || firstOpen} onChange={(e) => setDay(e.currentTarget.value)}>
        {days.map((d) => <option key={d} value={d}>{d}{logged.has(d) ? (logged.get(d) ? ' ✓' : ' ✗') : ''}</option>)}
      </select>
      <label class="check"><input type="checkbox" checked={adherent} onChange={(e) => setAdherent(e.currentTarget.checked)} /> I followed the plan</label>
      <div class="row">
        <button type="submit">Log adherence</button>
        <button type="button" class="log-all" onClick={logAll}>Mark every open day followed</button>
      </div>
      <ErrorText error={error} />
    </form>
  );
}

function EvaluationView({ ev, unit }) {
  const percent = ev.effectPercent != null;
  return (
    <div class="evaluation" aria-label="Evaluation">
      <div class="row"><Grade grade={ev.evidenceGrade} /><h4>Evaluation{ev.interim ? ' (interim)' : ''}</h4></div>
      <p class="effect">Effect: {percent ? `${fmt(ev.effectPercent, 1)}%` : `${fmt(ev.effect)} ${unit}`}, 95% interval{' '}
        {percent ? `${fmt(ev.ciLowPercent, 1)}% to ${fmt(ev.ciHighPercent, 1)}%` : `${fmt(ev.ciLow)} to ${fmt(ev.ciHigh)} ${unit}`}
        {' '}· adherence {pct(ev.adherence)} · {human(ev.claim)}</p>
      <IntervalPlot effect={percent ? ev.effectPercent : ev.effect} low={percent ? ev.ciLowPercent : ev.ciLow}
        high={percent ? ev.ciHighPercent : ev.ciHigh} mde={percent ? null : ev.mde} unit={percent ? '%' : unit} />
      {ev.narrative && <blockquote class="narrative">{ev.narrative.text}{ev.narrative.safetyText ? <p class="safety">{ev.narrative.safetyText}</p> : null}</blockquote>}
      <dl class="evidence">
        <dt>Why</dt><dd>{ev.evidence.why}</dd>
        <dt>How confident</dt><dd>{ev.evidence.howConfident}</dd>
        <dt>What would change it</dt><dd>{ev.evidence.whatWouldChange}</dd>
      </dl>
      <AuditTrail entityID={ev.id} />
    </div>
  );
}

function ExperimentCard({ x, unit, onChange }) {
  const [error, setError] = useState(null);
  const evaluate = async () => {
    setError(null);
    try { await gql(op.EVALUATE, { id: x.id }); onChange(); } catch (err) { setError(err); }
  };
  const cancel = async () => {
    setError(null);
    try { await gql(op.CANCEL, { id: x.id, reason: 'cancelled from the dashboard' }); onChange(); } catch (err) { setError(err); }
  };
  const ev = x.evaluations.edges[0]?.node;
  return (
    <article class="card experiment" data-intervention-id={x.id} aria-labelledby={`x-${x.id}`}>
      <header class="row"><Grade grade={x.evidenceGrade} /><h3 id={`x-${x.id}`}>{x.title}</h3></header>
      <p class="meta">{human(x.protocolKind)} → {x.targetMetric} ({human(x.expectedDirection)}) · <span class="x-status">{human(x.status)}</span> · risk {human(x.riskLevel)}
        {x.retrospective ? ' · retrospective' : ''}</p>
      <p class="mde">Minimum detectable effect: {fmt(x.mde)} {unit}</p>
      {x.statusReason && <p>{x.statusReason}</p>}
      <p class="boundary"><strong>Safety:</strong> {x.safetyBoundary}</p>
      <Schedule days={x.schedule} />
      {x.status === 'ACTIVE' && <Adherence x={x} onChange={onChange} />}
      <div class="row">
        {(x.status === 'ACTIVE' || x.status === 'COMPLETED') && <button type="button" class="evaluate" onClick={evaluate}>Evaluate now</button>}
        {(x.status === 'ACTIVE' || x.status === 'PENDING_REVIEW') && <button type="button" class="cancel" onClick={cancel}>Cancel experiment</button>}
      </div>
      <ErrorText error={error} />
      {ev && <EvaluationView ev={ev} unit={unit} />}
      <AuditTrail entityID={x.id} />
    </article>
  );
}

function Experiments({ refreshKey }) {
  const [tick, setTick] = useState(0);
  const [state] = useAsync(() => Promise.all([gql(op.INTERVENTIONS), gql(op.METRICS)]), [refreshKey, tick]);
  const reload = () => setTick((t) => t + 1);
  const metrics = state.data ? state.data[1].metrics : [];
  const units = Object.fromEntries(metrics.map((m) => [m.key, m.canonicalUnit]));
  return (
    <section id="experiments" aria-labelledby="experiments-title">
      <h2 id="experiments-title">Experiments</h2>
      <ErrorText error={state.error} />
      {metrics.length > 0 && <StartForm metrics={metrics} onStarted={reload} />}
      <div id="experiment-list">
        {state.data && state.data[0].interventions.edges.map((e) => <ExperimentCard key={e.node.id} x={e.node} unit={units[e.node.targetMetric] || ''} onChange={reload} />)}
      </div>
    </section>
  );
}

// ---- admin review queue -----------------------------------------------------

function ReviewItem({ x, onDone }) {
  const [reason, setReason] = useState('');
  const [error, setError] = useState(null);
  const decide = async (mutation) => {
    setError(null);
    try { await gql(mutation, { id: x.id, reason }); onDone(); } catch (err) { setError(err); }
  };
  return (
    <li class="card review" data-intervention-id={x.id}>
      <h3>{x.title}</h3>
      <p class="meta">{human(x.protocolKind)} → {x.targetMetric} · risk {human(x.riskLevel)}</p>
      <p>{x.statusReason}</p>
      <p class="boundary"><strong>Safety:</strong> {x.safetyBoundary}</p>
      <label for={`reason-${x.id}`}>Reason (recorded in the audit trail)</label>
      <input id={`reason-${x.id}`} required value={reason} onInput={(e) => setReason(e.currentTarget.value)} />
      <div class="row">
        <button type="button" class="approve" disabled={!reason.trim()} onClick={() => decide(op.APPROVE)}>Approve</button>
        <button type="button" class="reject" disabled={!reason.trim()} onClick={() => decide(op.REJECT)}>Reject</button>
      </div>
      <ErrorText error={error} />
    </li>
  );
}

function ReviewQueue() {
  const [state, reload] = useAsync(() => gql(op.REVIEW_QUEUE), []);
  const list = state.data ? state.data.pendingReviews.edges.map((e) => e.node) : [];
  return (
    <section id="review" aria-labelledby="review-title">
      <h2 id="review-title">Review queue</h2>
      <ErrorText error={state.error} />
      {state.data && !list.length && <p>Nothing waits for review.</p>}
      <ul class="plain">{list.map((x) => <ReviewItem key={x.id} x={x} onDone={reload} />)}</ul>
    </section>
  );
}

// ---- the app ------------------------------------------------------------------

function App() {
  const [user, setUser] = useState(session.get()?.user || null);
  const [refreshKey, setRefreshKey] = useState(0);
  const signOut = async () => {
    const s = session.get();
    try { if (s) await gql(op.SIGN_OUT, { token: s.refreshToken }); } catch { /* signed out locally anyway */ }
    session.clear();
    setUser(null);
  };
  if (!user) return <AuthForm onSignedIn={setUser} />;
  const admin = user.role === 'ADMIN';
  return (
    <>
      <a class="skip" href="#main">Skip to content</a>
      <header class="top row between">
        <strong>Vitalgraph</strong>
        <nav aria-label="Sections">
          <a href="#insights">Insights</a> <a href="#metrics">Metrics</a> <a href="#experiments">Experiments</a>
          {admin && <> <a href="#review">Review</a></>}
        </nav>
        <span class="row">
          <span id="who">{user.email}</span>
          <button type="button" onClick={() => setRefreshKey((k) => k + 1)}>Refresh</button>
          <button type="button" id="sign-out" onClick={signOut}>Sign out</button>
        </span>
      </header>
      <main id="main" tabIndex={-1}>
        {admin && <ReviewQueue />}
        <Insights user={user} onLive={() => setRefreshKey((k) => k + 1)} />
        <Metrics refreshKey={refreshKey} />
        <Experiments refreshKey={refreshKey} />
      </main>
    </>
  );
}

const root = document.getElementById('app');
root.textContent = ''; // the "Loading…" placeholder
render(<App />, root);
