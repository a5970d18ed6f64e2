package dev.gpuact.report;

import java.util.List;
import java.util.Locale;
import java.util.stream.Collectors;

/** RFC 4180 CSV: a header line and rows; fields with commas, quotes or line breaks are quoted. */
public final class Csv {
    private Csv() {
    }

    public static String write(List<String> header, List<List<?>> rows) {
        StringBuilder sb = new StringBuilder();
        line(sb, header);
        for (List<?> row : rows) {
            if (row.size() != header.size()) {
                throw new IllegalArgumentException("CSV row has " + row.size() + " fields but the header has "
                        + header.size() + ": " + row);
            }
            line(sb, row);
        }
        return sb.toString();
    }

    private static void line(StringBuilder sb, List<?> fields) {
        sb.append(fields.stream().map(Csv::field).collect(Collectors.joining(","))).append("\r\n");
    }

    private static String field(Object value) {
        if (value == null) {
            return "";
        }
        String text = value instanceof Double d ? (Double.isFinite(d) ? String.format(Locale.ROOT, "%.6g", d) : "")
                : value.toString();
        if (text.contains(",") || text.contains("\"") || text.contains("\n") || text.contains("\r")) {
            return '"' + text.replace("\"", "\"\"") + '"';
        }
        return text;
    }
}
