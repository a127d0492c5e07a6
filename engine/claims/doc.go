// Package claims is the claim policy checker: it decides whether a
// narrative's wording claims more than its evidence grade allows, whether it
// states the numbers every narrative must state, and whether it carries the
// safety text verbatim without contradicting it (DESIGN.md "Evidence grades
// and the claim policy"; DOMAIN.md §4, after GRADE guideline 26, Santesso
// 2020).
//
// # Word rules per grade
//
// Words match case-insensitively on word boundaries, in every listed
// inflection. "Hedged" means a hedge word of the grade appears among the 5
// words before the verb in the same sentence (sentences end at . ! ? ; and
// line breaks; quoted names from Context.Names are skipped when counting).
// "Negation-exempt" words are allowed when one of not, no, never, cannot,
// can't, don't, doesn't, didn't, isn't, wasn't, aren't, weren't, won't,
// wouldn't, shouldn't, nor, neither, without appears among the 3 words
// before them ("does not prove", "not always", "no guarantee").
//
//	grade  allowed                                              disallowed
//	A      "X reduced/increased Y for you during this           cures, proves, causes, guarantees, diagnoses, always,
//	       experiment", "little to no difference"               definitely, certainly (negation-exempt)
//	B      "X probably/likely reduced Y" (hedges: probably,     as A, plus show(s)/demonstrate(s) (negation-exempt)
//	       likely, unlikely, may, might, could, possibly,       and any unhedged directional verb (UNHEDGED_VERB)
//	       perhaps)
//	C      "X may have reduced Y" (hedges: may, might, could,   as B, plus probably, likely, unlikely (never exempt);
//	       possibly, perhaps)                                   directional verbs need a C hedge
//	D      "we can't tell; the evidence is very uncertain"      as C, plus every directional verb, hedged or not
//
// Directional verbs: reduce, increase, decrease, improve, worsen, lower,
// raise, boost, shorten, lengthen, with their -s/-ed/-ing forms and the
// nouns reduction(s) and improvement(s). Absolute words: cure, prove (and
// proven, proof), cause (and causal, causation), guarantee, diagnose (and
// diagnosis), always, definitely, certainly. Negated directional verbs are
// still directional claims ("did not reduce" needs a hedge at B–C and is
// disallowed at D): the checker errs on the side of safety.
// "May" is not a hedge when it names the month (followed by a number or
// preceded by in, since, until, of, early, late, mid, from, through).
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
