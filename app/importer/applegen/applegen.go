// Package applegen writes synthetic Apple Health export.xml files of any
// size, shaped like the Health app's export (DTD header, Me element, typed
// Record elements from an iPhone and a Watch, HRV records with nested
// metadata lists, Workout elements), for import tests and the import
// benchmark. Output is deterministic for a seed.
package applegen

import (
	"bufio"
	"fmt"
	"io"
	"math/rand/v2"
	"time"
)

// Options shape the export.
type Options struct {
	Seed  uint64
	Start time.Time // first day (local midnight at Offset)
	// Bytes is the size to reach (approximately, from above); the days
	// continue as long as needed, 2 000 step records a day.
	Bytes  int64
	Offset string // e.g. "-0500"
}

// Stats say what was written.
type Stats struct {
	Bytes   int64
	Records int64
	Days    int
	Last    time.Time // the last day written
}

const header = `<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE HealthData [
<!ELEMENT HealthData (ExportDate,Me,(Record|Correlation|Workout|ActivitySummary)*)>
<!ATTLIST HealthData locale CDATA #REQUIRED>
<!ELEMENT Record ((MetadataEntry|HeartRateVariabilityMetadataList)*)>
<!ATTLIST Record type CDATA #REQUIRED unit CDATA #IMPLIED value CDATA #IMPLIED sourceName CDATA #REQUIRED startDate CDATA #REQUIRED endDate CDATA #REQUIRED>
]>
<HealthData locale="en_US">
 <ExportDate value="2026-03-01 09:00:00 -0500"/>
 <Me HKCharacteristicTypeIdentifierDateOfBirth="1985-01-01" HKCharacteristicTypeIdentifierBiologicalSex="HKBiologicalSexNotSet"/>
`

type counter struct {
	w io.Writer
	n int64
}

func (c *counter) Write(p []byte) (int, error) {
	k, err := c.w.Write(p)
	c.n += int64(k)
	return k, err
}

// Write writes an export of about opt.Bytes to w.
func Write(w io.Writer, opt Options) (Stats, error) {
	if opt.Offset == "" {
		opt.Offset = "-0500"
	}
	loc, err := time.Parse("-0700", opt.Offset)
	if err != nil {
		return Stats{}, fmt.Errorf("offset: %w", err)
	}
	_, secs := loc.Zone()
	zone := time.FixedZone("", secs)
	rng := rand.New(rand.NewPCG(opt.Seed, 2026)) //nolint:gosec // synthetic data, reproducible from the seed
	c := &counter{w: w}
	bw := bufio.NewWriterSize(c, 1<<20)
	var st Stats
	if _, err := bw.WriteString(header); err != nil {
		return st, err
	}
	day := time.Date(opt.Start.Year(), opt.Start.Month(), opt.Start.Day(), 0, 0, 0, 0, zone)
	const layout = "2006-01-02 15:04:05 -0700"
	rec := func(typ, src, unit string, at time.Time, value string, extra string) {
		fmt.Fprintf(bw, ` <Record type="%s" sourceName="%s" sourceVersion="17.2" device="&lt;&lt;HKDevice: 0x600&gt;&gt;" unit="%s" creationDate="%s" startDate="%s" endDate="%s" value="%s"`,
			typ, src, unit, at.Add(time.Minute).Format(layout), at.Format(layout), at.Add(time.Minute).Format(layout), value)
		if extra == "" {
			_, _ = bw.WriteString("/>\n") // a write error surfaces at Flush
		} else {
			_, _ = bw.WriteString(">\n" + extra + " </Record>\n")
		}
		st.Records++
	}
	for c.n+int64(bw.Buffered()) < opt.Bytes {
		for i := range 1000 {
			at := day.Add(time.Duration(6*3600+i*50) * time.Second)
			rec("HKQuantityTypeIdentifierStepCount", "Watch", "count", at, fmt.Sprint(5+rng.IntN(40)), "")
			rec("HKQuantityTypeIdentifierStepCount", "iPhone", "count", at.Add(7*time.Second), fmt.Sprint(3+rng.IntN(30)), "")
		}
		for h := range 4 {
			at := day.Add(time.Duration(1+h*2) * time.Hour)
			meta := fmt.Sprintf("  <HeartRateVariabilityMetadataList>\n   <InstantaneousBeatsPerMinute bpm=\"%d\" time=\"1:02:03.45 AM\"/>\n  </HeartRateVariabilityMetadataList>\n", 50+rng.IntN(20))
			rec("HKQuantityTypeIdentifierHeartRateVariabilitySDNN", "Watch", "ms", at, fmt.Sprintf("%.3f", 30+rng.Float64()*40), meta)
		}
		for m := range 60 {
			rec("HKQuantityTypeIdentifierHeartRate", "Watch", "count/min", day.Add(time.Duration(m*20)*time.Minute), fmt.Sprint(55+rng.IntN(60)), "")
		}
		rec("HKQuantityTypeIdentifierRestingHeartRate", "Watch", "count/min", day.Add(20*time.Hour), fmt.Sprint(50+rng.IntN(12)), "")
		fmt.Fprintf(bw, " <Workout workoutActivityType=\"HKWorkoutActivityTypeWalking\" duration=\"30\" durationUnit=\"min\" sourceName=\"Watch\" startDate=\"%s\" endDate=\"%s\"/>\n",
			day.Add(17*time.Hour).Format(layout), day.Add(17*time.Hour+30*time.Minute).Format(layout))
		st.Days++
		st.Last = day
		day = day.AddDate(0, 0, 1)
	}
	if _, err := bw.WriteString("</HealthData>\n"); err != nil {
		return st, err
	}
	if err := bw.Flush(); err != nil {
		return st, err
	}
	st.Bytes = c.n
	return st, nil
}
