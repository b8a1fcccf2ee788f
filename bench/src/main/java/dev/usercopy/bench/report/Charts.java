package dev.usercopy.bench.report;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.BitmapEncoder.BitmapFormat;
import org.knowm.xchart.CategoryChart;
import org.knowm.xchart.CategoryChartBuilder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.style.Styler.LegendPosition;
import org.knowm.xchart.style.markers.SeriesMarkers;

/** PNG charts with XChart, drawn headless. */
final class Charts {
    private static final int WIDTH = 1000;
    private static final int HEIGHT = 560;

    private Charts() {}

    /** One line a series over shared x values; NaN points are left out. */
    static void lines(Path file, String title, String xTitle, String yTitle, double[] xs,
                      Map<String, double[]> series, boolean logX) throws IOException {
        XYChart chart = new XYChartBuilder().width(WIDTH).height(HEIGHT).title(title)
                .xAxisTitle(xTitle).yAxisTitle(yTitle).build();
        chart.getStyler().setXAxisLogarithmic(logX);
        chart.getStyler().setLegendPosition(LegendPosition.OutsideE);
        chart.getStyler().setChartBackgroundColor(java.awt.Color.WHITE);
        chart.getStyler().setPlotGridLinesVisible(true);
        chart.getStyler().setMarkerSize(6);
        for (Map.Entry<String, double[]> e : series.entrySet()) {
            int n = 0;
            for (double y : e.getValue()) {
                n += Double.isNaN(y) ? 0 : 1;
            }
            if (n == 0) {
                continue;
            }
            double[] x = new double[n];
            double[] y = new double[n];
            for (int i = 0, j = 0; i < xs.length; i++) {
                if (!Double.isNaN(e.getValue()[i])) {
                    x[j] = xs[i];
                    y[j++] = e.getValue()[i];
                }
            }
            chart.addSeries(e.getKey(), x, y).setMarker(SeriesMarkers.CIRCLE);
        }
        BitmapEncoder.saveBitmap(chart, file.toString(), BitmapFormat.PNG);
    }

    /** Grouped bars: one group a category, one bar a series. */
    static void bars(Path file, String title, String xTitle, String yTitle, List<String> categories,
                     Map<String, List<Double>> series) throws IOException {
        CategoryChart chart = new CategoryChartBuilder().width(Math.max(WIDTH, 120 * categories.size())).height(HEIGHT)
                .title(title).xAxisTitle(xTitle).yAxisTitle(yTitle).build();
        chart.getStyler().setLegendPosition(LegendPosition.OutsideE);
        chart.getStyler().setChartBackgroundColor(java.awt.Color.WHITE);
        chart.getStyler().setXAxisLabelRotation(categories.stream().anyMatch(c -> c.length() > 12) ? 30 : 0);
        for (Map.Entry<String, List<Double>> e : series.entrySet()) {
            chart.addSeries(e.getKey(), categories, e.getValue());
        }
        BitmapEncoder.saveBitmap(chart, file.toString(), BitmapFormat.PNG);
    }
}
