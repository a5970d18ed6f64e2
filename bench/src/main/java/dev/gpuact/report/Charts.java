package dev.gpuact.report;

import dev.gpuact.measure.CostModel;
import dev.gpuact.measure.Measurement;
import dev.gpuact.measure.Phase;
import dev.gpuact.Residency;
import java.awt.BasicStroke;
import java.awt.Color;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.ToDoubleFunction;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.Styler;
import org.knowm.xchart.style.markers.SeriesMarkers;

/** The report's PNG charts: log-log time versus size per workload, the crossover, and the fraction of limits. */
public final class Charts {
    private static final Color[] PALETTE = {new Color(0x1f77b4), new Color(0xd62728), new Color(0x2ca02c),
            new Color(0x9467bd), new Color(0xff7f0e), new Color(0x8c564b), new Color(0xe377c2), new Color(0x17becf)};
    private static final BasicStroke SOLID = new BasicStroke(2f);
    private static final BasicStroke DASHED = new BasicStroke(2f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 10f,
            new float[] {8f, 5f}, 0f);
    private static final BasicStroke DOTTED = new BasicStroke(2f, BasicStroke.CAP_ROUND, BasicStroke.JOIN_ROUND, 10f,
            new float[] {2f, 4f}, 0f);

    private Charts() {
    }

    /** Writes every chart into {@code dir}; returns the file names. */
    public static List<String> write(BenchReport r, Path dir) throws IOException {
        System.setProperty("java.awt.headless", "true");
        List<String> files = new ArrayList<>();
        for (String w : r.workloads()) {
            files.add(save(timeChart(r, w), dir, "time-" + w.replace(':', '-')));
        }
        if (!r.crossovers().isEmpty()) {
            files.add(save(crossoverChart(r), dir, "crossover"));
        }
        for (String backend : r.backends()) {
            files.add(save(limitChart(r, backend), dir, "fraction-of-limit-" + backend));
        }
        return files;
    }

    private static String save(XYChart chart, Path dir, String name) throws IOException {
        BitmapEncoder.saveBitmap(chart, dir.resolve(name).toString(), BitmapEncoder.BitmapFormat.PNG);
        return name + ".png";
    }

    private static XYChart chart(String title, String yTitle, boolean logY) {
        XYChart c = new XYChartBuilder().width(1000).height(620).title(title).xAxisTitle("elements (float32)")
                .yAxisTitle(yTitle).build();
        Styler s = c.getStyler();
        c.getStyler().setXAxisLogarithmic(true);
        c.getStyler().setYAxisLogarithmic(logY);
        s.setLegendPosition(Styler.LegendPosition.OutsideE);
        s.setChartBackgroundColor(Color.WHITE);
        s.setPlotBackgroundColor(Color.WHITE);
        c.getStyler().setPlotGridLinesColor(new Color(0xdddddd));
        c.getStyler().setXAxisDecimalPattern("0.#E0");
        return c;
    }

    private static void series(XYChart c, String name, List<Measurement> points, ToDoubleFunction<Measurement> y,
                               Color color, BasicStroke stroke) {
        List<Measurement> finite = points.stream().filter(m -> Double.isFinite(y.applyAsDouble(m))).toList();
        if (finite.isEmpty()) {
            return;
        }
        XYSeries s = c.addSeries(name, finite.stream().mapToDouble(Measurement::elements).toArray(),
                finite.stream().mapToDouble(y).toArray());
        s.setLineColor(color);
        s.setMarkerColor(color);
        s.setLineStyle(stroke);
        s.setMarker(SeriesMarkers.CIRCLE);
    }

    private static List<Measurement> select(BenchReport r, String backend, String workload, Phase phase) {
        return r.measurements().stream().filter(m -> m.backend().equals(backend) && m.workload().equals(workload)
                && m.phase() == phase).toList();
    }

    /** Per backend (one colour each): end to end solid, kernel dashed, upload and download dotted. */
    static XYChart timeChart(BenchReport r, String workload) {
        XYChart c = chart(workload + ": time versus size per phase (median)", "time (ms)", true);
        List<String> backends = r.backends();
        for (int i = 0; i < backends.size(); i++) {
            String b = backends.get(i);
            Color color = PALETTE[i % PALETTE.length];
            ToDoubleFunction<Measurement> ms = m -> m.sample().median() / 1e6;
            series(c, b + " end to end", select(r, b, workload, Phase.END_TO_END), ms, color, SOLID);
            series(c, b + " kernel", select(r, b, workload, Phase.KERNEL), ms, color, DASHED);
            series(c, b + " upload", select(r, b, "", Phase.UPLOAD_PAGEABLE), ms, color.darker(), DOTTED);
            series(c, b + " download", select(r, b, "", Phase.DOWNLOAD_PAGEABLE), ms, color.brighter(), DOTTED);
        }
        return c;
    }

    /** The device's speed-up over the cpu: above 1 the device wins; solid for host data, dashed for device data. */
    static XYChart crossoverChart(BenchReport r) {
        XYChart c = chart("Crossover: cpu time / device time (above 1: the device wins)", "speed-up over cpu (x)", true);
        CostModel model = r.model();
        int colour = 0;
        for (String device : r.backends()) {
            if (device.equals(CostModel.CPU)) {
                continue;
            }
            for (String w : r.workloads()) {
                Color color = PALETTE[colour++ % PALETTE.length];
                List<Measurement> sizes = select(r, device, w, Phase.END_TO_END);
                for (Residency where : Residency.values()) {
                    String dataOn = where == Residency.HOST ? "host data" : "device data";
                    series(c, device + " " + w + ", " + dataOn, sizes, m -> model.cost(CostModel.CPU, w, m.elements(), where)
                                    .orElse(Double.NaN) / model.cost(device, w, m.elements(), where).orElse(Double.NaN),
                            color, where == Residency.HOST ? SOLID : DASHED);
                }
            }
        }
        addOneLine(c, r);
        return c;
    }

    private static void addOneLine(XYChart c, BenchReport r) {
        double[] range = r.measurements().stream().mapToDouble(Measurement::elements).sorted().toArray();
        if (range.length > 0) {
            XYSeries one = c.addSeries("break-even (1x)", new double[] {range[0], range[range.length - 1]},
                    new double[] {1, 1});
            one.setLineColor(Color.BLACK);
            one.setLineStyle(DOTTED);
            one.setMarker(SeriesMarkers.NONE);
        }
    }

    /** Each phase's share of its limit, in percent, versus size. */
    static XYChart limitChart(BenchReport r, String backend) {
        XYChart c = chart(backend + ": share of the limit measured in the same run", "% of limit", false);
        int colour = 0;
        for (Phase p : List.of(Phase.UPLOAD_PAGEABLE, Phase.UPLOAD_PINNED, Phase.DOWNLOAD_PAGEABLE, Phase.DOWNLOAD_PINNED,
                Phase.DEVICE_COPY)) {
            String limit = r.limit(backend, p, 0).map(BenchReport.Limit::name).orElse("?");
            series(c, p.label() + " / " + limit, select(r, backend, "", p), m -> 100 * r.fractionOfLimit(m),
                    PALETTE[colour++ % PALETTE.length], DOTTED);
        }
        for (String w : r.workloads()) {
            String limit = r.limit(backend, Phase.KERNEL, 0).map(BenchReport.Limit::name).orElse("?");
            series(c, "kernel " + w + " / " + limit, select(r, backend, w, Phase.KERNEL), m -> 100 * r.fractionOfLimit(m),
                    PALETTE[colour++ % PALETTE.length], SOLID);
        }
        return c;
    }
}
