package dev.gpuact.report;

import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** Writes maps, lists, strings, numbers, booleans and null as indented JSON; NaN and infinities become null. */
public final class Json {
    private Json() {
    }

    public static String write(Object value) {
        StringBuilder sb = new StringBuilder();
        write(sb, value, "");
        return sb.append('\n').toString();
    }

    private static void write(StringBuilder sb, Object value, String indent) {
        if (value == null) {
            sb.append("null");
        } else if (value instanceof String s) {
            string(sb, s);
        } else if (value instanceof Boolean b) {
            sb.append(b);
        } else if (value instanceof Double || value instanceof Float) {
            double d = ((Number) value).doubleValue();
            sb.append(Double.isFinite(d) ? number(d) : "null");
        } else if (value instanceof Number n) {
            sb.append(n.longValue());
        } else if (value instanceof Map<?, ?> map) {
            container(sb, map.entrySet().iterator(), indent, '{', '}', (e, inner) -> {
                Map.Entry<?, ?> entry = (Map.Entry<?, ?>) e;
                string(sb, String.valueOf(entry.getKey()));
                sb.append(": ");
                write(sb, entry.getValue(), inner);
            });
        } else if (value instanceof List<?> list) {
            container(sb, list.iterator(), indent, '[', ']', (e, inner) -> write(sb, e, inner));
        } else {
            throw new IllegalArgumentException("no JSON form for a " + value.getClass().getName());
        }
    }

    private interface Element {
        void write(Object element, String indent);
    }

    private static void container(StringBuilder sb, Iterator<?> it, String indent, char open, char close, Element element) {
        sb.append(open);
        if (!it.hasNext()) {
            sb.append(close);
            return;
        }
        String inner = indent + "  ";
        while (it.hasNext()) {
            sb.append('\n').append(inner);
            element.write(it.next(), inner);
            if (it.hasNext()) {
                sb.append(',');
            }
        }
        sb.append('\n').append(indent).append(close);
    }

    /** Whole numbers without a fraction, others with up to 6 significant digits. */
    private static String number(double d) {
        if (d == Math.rint(d) && Math.abs(d) < 1e15) {
            return Long.toString((long) d);
        }
        return String.format(Locale.ROOT, "%.6g", d).replaceAll("(\\.\\d*?)0+(e|$)", "$1$2").replace(".e", "e")
                .replaceAll("\\.$", "");
    }

    private static void string(StringBuilder sb, String s) {
        sb.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> sb.append("\\\"");
                case '\\' -> sb.append("\\\\");
                case '\n' -> sb.append("\\n");
                case '\r' -> sb.append("\\r");
                case '\t' -> sb.append("\\t");
                default -> {
                    if (c < 0x20) {
                        sb.append(String.format(Locale.ROOT, "\\u%04x", (int) c));
                    } else {
                        sb.append(c);
                    }
                }
            }
        }
        sb.append('"');
    }
}
