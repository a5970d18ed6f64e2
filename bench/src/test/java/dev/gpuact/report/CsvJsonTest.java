package dev.gpuact.report;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class CsvJsonTest {
    @Test
    void csvQuotesWhatNeedsQuotingAndLeavesTheRest() {
        String csv = Csv.write(List.of("a", "b", "c"), List.of(List.of("x,y", "say \"hi\"", 1.5),
                Arrays.asList("line\nbreak", null, Double.NaN), List.of("plain", 42L, 1e-9)));
        assertThat(csv).isEqualTo("a,b,c\r\n\"x,y\",\"say \"\"hi\"\"\",1.50000\r\n\"line\nbreak\",,\r\nplain,42,1.00000e-09\r\n");
    }

    @Test
    void csvRejectsARowOfTheWrongWidth() {
        assertThatThrownBy(() -> Csv.write(List.of("a", "b"), List.of(List.of("only one"))))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("1 fields but the header has 2");
    }

    @Test
    void jsonEscapesStringsAndTurnsNonFiniteNumbersIntoNull() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("text", "a \"quote\", a \\ and a\ttab\u0001");
        m.put("whole", 3.0);
        m.put("fraction", 0.125);
        m.put("tiny", 1.5e-9);
        m.put("nan", Double.NaN);
        m.put("list", List.of(1L, true));
        m.put("empty", List.of());
        m.put("none", null);
        assertThat(Json.write(m)).isEqualTo("""
                {
                  "text": "a \\"quote\\", a \\\\ and a\\ttab\\u0001",
                  "whole": 3,
                  "fraction": 0.125,
                  "tiny": 1.5e-09,
                  "nan": null,
                  "list": [
                    1,
                    true
                  ],
                  "empty": [],
                  "none": null
                }
                """);
    }

    @Test
    void jsonRefusesWhatItCannotWrite() {
        assertThatThrownBy(() -> Json.write(List.of(new Object()))).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("no JSON form for a java.lang.Object");
    }
}
