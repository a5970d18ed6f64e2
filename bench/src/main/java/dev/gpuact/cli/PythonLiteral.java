package dev.gpuact.cli;

import java.math.BigInteger;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Parses the subset of Python literal syntax a .npy header uses: a dict of quoted keys whose values are
 * strings, {@code True}/{@code False}/{@code None}, integers, and tuples or lists of those.
 * Values come back as {@link String}, {@link Boolean}, {@link #NONE}, {@link BigInteger}, {@link List} and
 * {@link Map}; any other syntax is an {@link IllegalArgumentException} that says where.
 */
final class PythonLiteral {
    /** Python's {@code None}. */
    static final Object NONE = new Object() {
        @Override
        public String toString() {
            return "None";
        }
    };

    private final String text;
    private int pos;

    private PythonLiteral(String text) {
        this.text = text;
    }

    /** The dict that makes up all of {@code text}, apart from surrounding white space. */
    static Map<String, Object> parseDict(String text) {
        PythonLiteral p = new PythonLiteral(text);
        p.skipSpace();
        if (!p.peek('{')) {
            throw p.error("expected a dict starting with '{'");
        }
        @SuppressWarnings("unchecked")
        Map<String, Object> dict = (Map<String, Object>) p.value();
        p.skipSpace();
        if (p.pos != text.length()) {
            throw p.error("unexpected text after the dict");
        }
        return dict;
    }

    private Object value() {
        skipSpace();
        if (pos >= text.length()) {
            throw error("unexpected end of header");
        }
        char c = text.charAt(pos);
        return switch (c) {
            case '{' -> dict();
            case '(' -> sequence('(', ')');
            case '[' -> sequence('[', ']');
            case '\'', '"' -> string();
            default -> c == '-' || c == '+' || Character.isDigit(c) ? integer() : word();
        };
    }

    private Map<String, Object> dict() {
        pos++;
        Map<String, Object> dict = new LinkedHashMap<>();
        while (true) {
            skipSpace();
            if (peek('}')) {
                pos++;
                return dict;
            }
            Object key = value();
            if (!(key instanceof String name)) {
                throw error("dict keys must be strings");
            }
            skipSpace();
            expect(':');
            if (dict.put(name, value()) != null) {
                throw error("key '" + name + "' appears twice");
            }
            if (!separator('}')) {
                return dict;
            }
        }
    }

    private List<Object> sequence(char open, char close) {
        pos++;
        List<Object> items = new ArrayList<>();
        while (true) {
            skipSpace();
            if (peek(close)) {
                pos++;
                return items;
            }
            items.add(value());
            if (!separator(close)) {
                return items;
            }
        }
    }

    /** After an item: a comma (more may follow, true) or the closing bracket (consumed, false). */
    private boolean separator(char close) {
        skipSpace();
        if (peek(',')) {
            pos++;
            return true;
        }
        expect(close);
        return false;
    }

    private String string() {
        char quote = text.charAt(pos++);
        int start = pos;
        while (pos < text.length() && text.charAt(pos) != quote) {
            if (text.charAt(pos) == '\\' || text.charAt(pos) == '\n') {
                throw error("escapes and line breaks in strings are not supported");
            }
            pos++;
        }
        if (pos >= text.length()) {
            throw error("unterminated string");
        }
        return text.substring(start, pos++);
    }

    private BigInteger integer() {
        int start = pos;
        if (peek('-') || peek('+')) {
            pos++;
        }
        while (pos < text.length() && Character.isDigit(text.charAt(pos))) {
            pos++;
        }
        String digits = text.substring(start, pos);
        if (peek('L')) {
            pos++; // Python 2 wrote long dimensions as 3L
        }
        try {
            return new BigInteger(digits);
        } catch (NumberFormatException e) {
            throw error("malformed integer '" + digits + "'");
        }
    }

    private Object word() {
        int start = pos;
        while (pos < text.length() && Character.isLetter(text.charAt(pos))) {
            pos++;
        }
        return switch (text.substring(start, pos)) {
            case "True" -> Boolean.TRUE;
            case "False" -> Boolean.FALSE;
            case "None" -> NONE;
            default -> {
                pos = start;
                throw error("unexpected character '" + text.charAt(pos) + "'");
            }
        };
    }

    private void skipSpace() {
        while (pos < text.length() && Character.isWhitespace(text.charAt(pos))) {
            pos++;
        }
    }

    private boolean peek(char c) {
        return pos < text.length() && text.charAt(pos) == c;
    }

    private void expect(char c) {
        if (!peek(c)) {
            throw error("expected '" + c + "'");
        }
        pos++;
    }

    private IllegalArgumentException error(String what) {
        return new IllegalArgumentException(what + " at character " + pos + " of header " + abbreviate(text));
    }

    private static String abbreviate(String s) {
        String oneLine = s.strip().replaceAll("\\s+", " ").replaceAll("[^\\x20-\\x7e]", "?");
        return oneLine.length() <= 80 ? "\"" + oneLine + "\"" : "\"" + oneLine.substring(0, 77) + "...\"";
    }
}
