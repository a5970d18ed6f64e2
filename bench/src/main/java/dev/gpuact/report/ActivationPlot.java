package dev.gpuact.report;

import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import javax.imageio.ImageIO;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.Styler;
import org.knowm.xchart.style.markers.SeriesMarkers;

/** Activation curves f(x) on the left and f'(x) on the right, one colour per activation, in one PNG. */
public final class ActivationPlot {
    private static final int WIDTH = 700;
    private static final int HEIGHT = 520;
    private final double[] x;
    private final String computedOn;
    private final List<String> names = new ArrayList<>();
    private final List<double[]> values = new ArrayList<>();
    private final List<double[]> derivatives = new ArrayList<>();

    public ActivationPlot(float[] x, String computedOn) {
        this.x = toDoubles(x);
        this.computedOn = computedOn;
    }

    public void add(String name, float[] f, float[] derivative) {
        names.add(name);
        values.add(toDoubles(f));
        derivatives.add(toDoubles(derivative));
    }

    public void write(Path file) throws IOException {
        System.setProperty("java.awt.headless", "true");
        BufferedImage image = new BufferedImage(2 * WIDTH, HEIGHT, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = image.createGraphics();
        try {
            chart("f(x) on " + computedOn, "f(x)", values).paint(g, WIDTH, HEIGHT);
            g.translate(WIDTH, 0);
            chart("f'(x) on " + computedOn, "f'(x)", derivatives).paint(g, WIDTH, HEIGHT);
        } finally {
            g.dispose();
        }
        // Through a stream of the file: ImageIO.write(image, format, File) deletes the file first, which for a
        // device such as /dev/null would destroy it. No disk cache: ImageIO's would be another temporary file.
        ImageIO.setUseCache(false);
        try (OutputStream out = Files.newOutputStream(file)) {
            if (!ImageIO.write(image, "png", out)) {
                throw new IOException("no PNG writer in this Java runtime");
            }
        }
    }

    private XYChart chart(String title, String yTitle, List<double[]> curves) {
        XYChart c = new XYChartBuilder().width(WIDTH).height(HEIGHT).title(title).xAxisTitle("x").yAxisTitle(yTitle).build();
        c.getStyler().setLegendPosition(Styler.LegendPosition.InsideNW);
        c.getStyler().setChartBackgroundColor(Color.WHITE);
        c.getStyler().setPlotBackgroundColor(Color.WHITE);
        c.getStyler().setPlotGridLinesColor(new Color(0xdddddd));
        c.getStyler().setChartTitleFont(c.getStyler().getChartTitleFont().deriveFont(12f));
        for (int i = 0; i < names.size(); i++) {
            XYSeries s = c.addSeries(names.get(i), x, curves.get(i));
            s.setMarker(SeriesMarkers.NONE);
        }
        return c;
    }

    private static double[] toDoubles(float[] f) {
        double[] d = new double[f.length];
        for (int i = 0; i < f.length; i++) {
            d[i] = f[i];
        }
        return d;
    }
}
