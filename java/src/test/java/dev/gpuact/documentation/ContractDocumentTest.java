package dev.gpuact.documentation;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gpuact.Op;
import dev.gpuact.Param;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * docs/ACTIVATIONS.md, the users' contract, against the {@link Op} catalog: each op in the table of its kind, in
 * catalog order, and each parameter in the parameters table with its name, order, default and range.
 */
class ContractDocumentTest {
    static final String DOCUMENT = "docs/ACTIVATIONS.md";
    private static final Map<Op.Kind, String> FUNCTION_SECTIONS = Map.of(
            Op.Kind.ELEMENTWISE, "Elementwise functions",
            Op.Kind.CHANNELWISE, "Channel-wise functions",
            Op.Kind.ROWWISE, "Row-wise functions",
            Op.Kind.GATED, "Gated functions");
    private static final String PARAMETER_SECTION = "Parameters";

    /** A Markdown table: the {@code ##} section it sits in, its header cells and its rows' cells. */
    record Table(String section, List<String> header, List<List<String>> rows) {
        List<String> column(int index) {
            return rows.stream().map(row -> row.get(index)).toList();
        }
    }

    @Test
    void everyOpIsInTheTableOfItsKindInCatalogOrder() {
        List<Table> tables = tables(Repository.lines(DOCUMENT));
        for (Map.Entry<Op.Kind, String> section : FUNCTION_SECTIONS.entrySet()) {
            List<String> catalog = Arrays.stream(Op.values()).filter(op -> op.kind() == section.getKey())
                    .map(Op::id).toList();
            assertThat(opTable(tables, section.getValue()).column(0).stream().map(ContractDocumentTest::unquoted))
                    .as("%s, section '%s': the ops of kind %s", DOCUMENT, section.getValue(), section.getKey())
                    .containsExactlyElementsOf(catalog);
        }
    }

    @Test
    void parametersTableHasEveryParameterWithItsDefaultAndRange() {
        Table table = opTable(tables(Repository.lines(DOCUMENT)), PARAMETER_SECTION);
        assertThat(table.header()).as("%s, section '%s': header", DOCUMENT, PARAMETER_SECTION)
                .startsWith("op", "parameter", "default", "valid values");
        List<String> documented = table.rows().stream().map(row -> unquoted(row.get(0)) + "." + unquoted(row.get(1)))
                .toList();
        List<String> catalog = Arrays.stream(Op.values())
                .flatMap(op -> op.params().stream().map(p -> op.id() + "." + p.name())).toList();
        assertThat(documented).as("%s, section '%s': the parameters of every op, in catalog order", DOCUMENT,
                PARAMETER_SECTION).containsExactlyElementsOf(catalog);
        for (List<String> row : table.rows()) {
            Op op = Op.byName(unquoted(row.get(0)));
            Param param = op.params().stream().filter(p -> p.name().equals(unquoted(row.get(1)))).findFirst()
                    .orElseThrow();
            String where = DOCUMENT + ": " + op.id() + " " + param.name();
            // Rounded as the catalog rounds its own defaults (to float32 for a real parameter).
            double documentedDefault = Param.of(param.name(), number(row.get(2)), param.range(), "").defaultValue();
            assertThat(documentedDefault).as("%s: default '%s'", where, row.get(2)).isEqualTo(param.defaultValue());
            assertThat(row.get(3)).as("%s: valid values", where).startsWith(param.range().description());
        }
    }

    /** Every table of a Markdown document, in order. */
    static List<Table> tables(List<String> lines) {
        List<Table> tables = new ArrayList<>();
        String section = "";
        Table table = null;
        for (String line : lines) {
            if (line.startsWith("## ")) {
                section = line.substring(3).trim();
            }
            if (!line.startsWith("|")) {
                table = null;
                continue;
            }
            List<String> cells = cells(line);
            if (table == null) {
                table = new Table(section, cells, new ArrayList<>());
                tables.add(table);
            } else if (!cells.stream().allMatch(cell -> cell.matches(":?-+:?"))) {
                table.rows().add(cells);
            }
        }
        return tables;
    }

    private static List<String> cells(String line) {
        String inner = line.strip();
        inner = inner.substring(1, inner.endsWith("|") && !inner.endsWith("\\|") ? inner.length() - 1 : inner.length());
        return Arrays.stream(inner.split("(?<!\\\\)\\|", -1)).map(String::strip).toList();
    }

    /** The one table of {@code section} whose first column is {@code op}. */
    private static Table opTable(List<Table> tables, String section) {
        List<Table> found = tables.stream()
                .filter(t -> t.section().equals(section) && t.header().get(0).equals("op")).toList();
        assertThat(found).as("%s: tables in section '## %s' whose first column is 'op'", DOCUMENT, section).hasSize(1);
        return found.get(0);
    }

    private static String unquoted(String cell) {
        return cell.replace("`", "").strip();
    }

    /** A number as the document writes it: {@code 0.01}, {@code −1.0}, {@code 1/6}, {@code true}, {@code false}. */
    static double number(String cell) {
        String text = cell.replace('−', '-').strip();
        if (text.equals("true") || text.equals("false")) {
            return text.equals("true") ? 1 : 0;
        }
        int slash = text.indexOf('/');
        return slash < 0 ? Double.parseDouble(text)
                : Double.parseDouble(text.substring(0, slash)) / Double.parseDouble(text.substring(slash + 1));
    }
}
