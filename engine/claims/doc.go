// Package claims is the claim policy checker: it decides whether a
// narrative's wording claims more than its evidence grade allows, whether it
// states the numbers every narrative must state, and whether it carries the
// safety text verbatim without contradicting it (docs/design.md "Evidence grades
// and the claim policy"; docs/domain.md §4, after GRADE guideline 26, Santesso
// 2020).
//
// # Word rules per grade
//
// Words and phrases match case-insensitively on word boundaries, in every
// listed inflection (the lists live in lexicon.go; PolicyFor describes
// them for prompts and docs). "Hedged" means a hedge word of the grade
// appears among the 5 words before the word or phrase in the same sentence
// (sentences end at . ! ? ; and line breaks; quoted names from
// Context.Names and Context.Confounders are skipped). "Negated" means one
// of not, no, never, nothing, cannot, can't, don't, doesn't, didn't,
// isn't, wasn't, aren't, weren't, won't, wouldn't, shouldn't, nor,
// neither, without appears among the 3 words before ("does not prove",
// "not always", "no guarantee").
//
//	class        examples                                         rule
//	certainty    cure, prove, cause, guarantee, diagnose,         disallowed at every grade unless negated
//	             always, definitely, certainly, confirm,
//	             conclusive, undoubtedly, "clearly shows",
//	             "for sure", "without a doubt", "every time"
//	show         show, demonstrate                                disallowed at B–D unless negated, followed by a
//	                                                              null ("shows no clear change") or describing
//	                                                              a display ("the chart shows each night")
//	evident      clear, clearly, obvious, evident, significant,   disallowed at B–D, and at A unless the direction
//	             noticeable, substantially, dramatic              is supported, unless negated (5-word window:
//	                                                              "did not lead to a clear change")
//	probability  probably, likely, unlikely                       disallowed at C–D, except in a range statement
//	                                                              ("a change larger than +5 ms is unlikely")
//	directional  see below                                        see below
//	causal       because of, thanks to, led to, due to,           as directional
//	             resulted in, as a result (of), made your/you,
//	             responsible for, attributable to, contributed
//	             to, driven by, linked to, associated with …
//
// Directional words and causal phrases (docs/design.md: "allowed only when the
// 95% interval excludes zero — at every grade; the grade sets how strongly
// it is worded"):
//
//   - Context.DirectionSupported false: disallowed at every grade, hedged or
//     not, unless negated — a null stated as a null passes ("there was no
//     clear increase", "did not clearly increase", "no clear evidence that
//     it helped", "neither … nor … clearly improved").
//   - DirectionSupported true: A allows them plainly ("X reduced Y for you
//     during this experiment"); B needs a B hedge (probably, likely,
//     unlikely, may, might, could, possibly, perhaps); C needs a C hedge
//     (may, might, could, possibly, perhaps); D allows none, hedged or not.
//     A negated directional verb still counts here ("did not reduce" needs a
//     hedge at B–C and is disallowed at D): the checker errs on the side of
//     safety. "May" is not a hedge when it names the month (followed by a
//     number or preceded by in, since, until, of, early, late, mid, from,
//     through).
//
// Directional words are the verbs reduce, increase, decrease, improve,
// worsen, lower, raise, boost, shorten, lengthen, rise, fall, drop, climb,
// jump, help, work, cut, lift, gain, decline, dip, spike, surge, soar,
// plunge, plummet, slump, shrink, enhance, strengthen, weaken, elevate,
// benefit, double, halve, triple, grow, deteriorate, ease, hurt, harm,
// outperform, shave (with their inflections and derived nouns); higher,
// better, worse, healthier, stronger, weaker, upward, downward, uptick,
// downturn, effective, success(ful); phrases such as "above baseline",
// "positive effect", "made a difference", "paid off", "responded well",
// "adapting well", "taken a hit", "back to normal", "right direction",
// "went from", "real effect"; the superlatives highest, lowest, best, worst
// against time ("at its lowest", "your best sleep in months"); added and
// extra before a quantity ("added 22 minutes"); "up"/"down" after a verb
// of movement ("went up",
// "came down", "ticked up"), after a mover within 5 words ("brought your
// resting heart rate down"), after a form of be ("your sleep is up") or
// before a number or "by" ("up 12%"); and the comparatives more, less,
// fewer, longer, shorter, faster, slower, earlier, later, deeper, greater,
// larger, bigger, smaller when they assert a change: measured against a
// reference ("than before", "than usual", "than at baseline", "compared
// with", "during the experiment") or after become/got/grew ("became more
// regular").
//
// Context decides that an occurrence is not a claim (each case is in the
// corpus, testdata/corpus.tsv):
//
//   - Names: Context.Names and Context.Confounders are masked ("Increase
//     daily steps", "Lower caffeine", "lower back pain").
//   - Exempt phrases: "fell asleep" and its forms (sleep onset, not a fall:
//     "you fell asleep faster than before" is still flagged, on "faster …
//     than before"), "fell within", "upper and lower", "in the fall", "seek
//     help", "work out", "after work", "weight lifting", "cut back", "more
//     data", "longer than planned", "up to you", "wake up", "wind down" ….
//   - Analysis objects: a directional word directly followed (after
//     determiners and "in") by bound, limit, end, grade, certainty,
//     confidence, uncertainty, estimate, interval, coverage, adherence,
//     power, precision, evidence, data … ("lower bound", "higher grade",
//     "more data would reduce the uncertainty", "a drop in coverage"), or
//     directly preceded by one, modal verbs skipped ("so the interval can
//     shrink").
//   - Thresholds: higher/lower/above/below before a number or "than" and a
//     number ("higher than 60 bpm"), or as a hyphenated compound
//     ("higher-intensity"); a comparative against a number ("more than 5
//     ms") or a plan ("longer than planned"); "7 more days".
//   - Alternatives: two opposite directional words joined by "or" ("higher
//     or lower", "increased or decreased", "rise or fall").
//   - Questions and conditions: "whether" or "if" among the 6 words
//     before ("we can't tell whether it helped", "if your heart rate rises
//     above 100 bpm, stop"), unless a comma closes the "if" condition
//     first ("if you kept to it, your HRV rose", "if anything, …").
//   - Range statements: "a drop of more than 4 bpm is unlikely", "the data
//     rule out an increase of more than 8 minutes".
//   - Causal phrases about the data: followed by chance, noise, missing,
//     gap, drift, variation, measurement, coverage, adherence, data, too
//     (few) … or by a named confounder ("due to chance", "because of missing
//     days", "partly due to travel").
//   - Protocol descriptions: "when you cut caffeine", "washout days were
//     dropped", "dropped out", "a rose".
//
// These exemptions are lexical: a sentence can defeat them. The corpus
// test prints precision and recall; recall on the violating sentences must
// stay 1.
//
// # Required content
//
//   - n: "n = N" or "N days" (also nights, observations, measurements,
//     optionally "N valid days").
//   - CI (when both bounds are given): "CI" or "confidence interval"
//     followed, within the same clause, by the two bounds in order (a
//     leading "(95%)" is skipped), each within 0.05 of the true value (the
//     narrator formats them to one decimal).
//   - Coverage (unless NaN) and adherence (when given): a percentage within
//     0.5 points of the value ("60%", "60 %", "60 percent"); percentages
//     followed by CI, confidence, credible, interval or power do not count.
//   - Scope (when RequireScope): "for you", "during this experiment", "in
//     this experiment" or "during the experiment".
//   - Uncertainty: at A a CI statement ("CI" followed by two numbers) or an
//     uncertainty phrase (uncertain, uncertainty, unclear, imprecise, not
//     certain, not sure, can't be sure, by chance, can't tell ...); at B and
//     C an uncertainty phrase; at D "very uncertain", "can't tell" or "don't
//     know".
//   - Every confounder named verbatim (case-insensitive).
//   - The safety text verbatim (exact, case-sensitive substring after
//     collapsing whitespace runs to one space).
//
// # Safety contradiction heuristic
//
// Verbatim occurrences of the safety text are removed first. The key terms
// of the safety text are the words it shares with a fixed safety vocabulary
// (actions such as stop, talk, eat, rest; symptoms such as faint, dizzy,
// unwell, pain, numb; clinician, doctor, medication, dose ...), each with its
// variants, plus always warning, advice, safety and precaution. A remaining
// sentence contradicts the safety text (CONTRADICTS_SAFETY) when
//
//   - it contains an override cue (no need, don't need, needn't, not
//     necessary, ignore, disregard, don't worry, harmless, keep going, carry
//     on, push through, continue, even if, even when, regardless, safe to,
//     fine to, ok to, you can, feel free, go ahead, allowed to, instead of,
//     rather than ...) and a key term; or
//   - it negates (not, don't, never, no, needn't, shouldn't, won't within 3
//     words before) an action the safety text tells the person to take (stop,
//     talk, eat, rest, pause, seek, consult, call).
//
// This over-flags on purpose: a false positive costs an LLM narrative (the
// template replaces it); a false negative could cost a person's safety.
//
// # Order
//
// Check returns every violation: word and contradiction violations in text
// order, then missing content in the order scope, uncertainty, n, CI,
// coverage, adherence, confounders (in Context order), safety text.
package claims
