package dev.gpuact.documentation;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.jupiter.api.Test;
import org.w3c.dom.Element;
import org.w3c.dom.Node;
import org.w3c.dom.NodeList;

/**
 * What the README shows a user must be true of the repository: its code blocks copied from files are those files,
 * its dependency blocks name artifacts this build makes, and its links lead to files of the repository.
 */
class ReadmeTest {
    private static final String README = "README.md";
    /** Put before a fenced block whose text is a file's: {@code <!-- file: examples/.../LibraryExample.java -->}. */
    private static final Pattern FILE_MARKER = Pattern.compile("^<!-- file: (\\S+) -->$");
    private static final Pattern RELATIVE_LINK = Pattern.compile("\\]\\((?!https?:|#)([^)#\\s]+)(#[^)]*)?\\)");
    private static final Pattern GRADLE_DEPENDENCY = Pattern.compile("implementation\\(\"([^\"]+)\"\\)");
    /** Paths of the machine the project was written on, never of a clone. */
    private static final List<String> OUTSIDE_PATHS = List.of("../shared/", "/work/");
    /** Git's own files and what the build, the benchmarks and the bundle write (see .gitignore). */
    private static final Set<String> NOT_SOURCE = Set.of(".git", "target", "dist", "bench-out", ".whl", ".jre",
            ".gpuact-cache", ".jqwik-database");

    @Test
    void blocksMarkedWithAFileAreThatFile() {
        List<String> lines = Repository.lines(README);
        List<String> copied = new ArrayList<>();
        for (int i = 0; i < lines.size(); i++) {
            Matcher marker = FILE_MARKER.matcher(lines.get(i));
            if (!marker.matches()) {
                continue;
            }
            String file = marker.group(1);
            assertThat(lines.get(i + 1)).as("%s line %d: a fenced block after the marker of %s", README, i + 2, file)
                    .startsWith("```");
            int end = i + 2;
            while (end < lines.size() && !lines.get(end).startsWith("```")) {
                end++;
            }
            String block = String.join("\n", lines.subList(i + 2, end)) + "\n";
            assertThat(block).as("%s line %d: the block must be %s as it is; copy the file into the README", README,
                    i + 3, file).isEqualTo(Repository.read(file));
            copied.add(file);
        }
        assertThat(copied).as("files whose copy %s shows", README)
                .contains("examples/src/main/java/dev/gpuact/examples/LibraryExample.java");
    }

    @Test
    void dependencyBlocksAndTheExampleNameArtifactsOfThisBuild() {
        Element parent = pom("pom.xml");
        String groupId = child(parent, "groupId");
        String version = child(parent, "version");
        List<String> artifacts = new ArrayList<>();
        NodeList modules = parent.getElementsByTagName("module");
        for (int i = 0; i < modules.getLength(); i++) {
            artifacts.add(child(pom(modules.item(i).getTextContent().strip() + "/pom.xml"), "artifactId"));
        }
        List<String> coordinates = artifacts.stream().map(a -> groupId + ":" + a + ":" + version).toList();

        String readme = Repository.read(README);
        List<String> maven = new ArrayList<>();
        Matcher xml = Pattern.compile("```xml\n(.*?)```", Pattern.DOTALL).matcher(readme);
        while (xml.find()) {
            Element block = parse(xml.group(1));
            List<Element> dependencies = block.getTagName().equals("dependencies") ? children(block, "dependency")
                    : block.getTagName().equals("dependency") ? List.of(block) : List.of();
            for (Element dependency : dependencies) {
                maven.add(child(dependency, "groupId") + ":" + child(dependency, "artifactId") + ":"
                        + child(dependency, "version"));
            }
        }
        List<String> gradle = new ArrayList<>();
        Matcher implementation = GRADLE_DEPENDENCY.matcher(readme);
        while (implementation.find()) {
            gradle.add(implementation.group(1));
        }
        assertThat(maven).as("%s: the Maven dependency blocks", README).isNotEmpty();
        assertThat(maven).as("%s: the Maven dependency blocks name the core and each backend", README)
                .contains(groupId + ":gpuact-core:" + version, groupId + ":gpuact-opencl:" + version,
                        groupId + ":gpuact-cuda:" + version);
        assertThat(coordinates).as("%s: the Maven dependency blocks name artifacts of this build", README)
                .containsAll(maven);
        assertThat(gradle).as("%s: the Gradle dependencies, as the Maven ones", README).isEqualTo(maven);

        Element example = pom("examples/pom.xml");
        NodeList dependencies = example.getElementsByTagName("dependency");
        for (int i = 0; i < dependencies.getLength(); i++) {
            Element dependency = (Element) dependencies.item(i);
            assertThat(coordinates).as("examples/pom.xml: its dependencies are artifacts of this build")
                    .contains(child(dependency, "groupId") + ":" + child(dependency, "artifactId") + ":"
                            + child(dependency, "version"));
        }
    }

    @Test
    void linksLeadToFilesOfTheRepository() {
        for (String document : List.of(README, "docs/ACTIVATIONS.md")) {
            Path base = Repository.path(document).getParent();
            Matcher link = RELATIVE_LINK.matcher(Repository.read(document));
            while (link.find()) {
                Path target = base.resolve(link.group(1)).normalize();
                assertThat(target).as("%s: link %s", document, link.group(1)).startsWithRaw(Repository.ROOT).exists();
            }
        }
        assertThat(Repository.read(README)).contains("](docs/ACTIVATIONS.md)");
    }

    @Test
    void noFileNamesAPathOutsideTheRepository() throws IOException {
        Path self = Repository.path("java/src/test/java/dev/gpuact/documentation/ReadmeTest.java");
        List<String> offending = new ArrayList<>();
        try (Stream<Path> files = Files.walk(Repository.ROOT)) {
            files.filter(Files::isRegularFile)
                    .filter(file -> !isBuildOutput(Repository.ROOT.relativize(file)) && !file.equals(self))
                    .forEach(file -> {
                        String text = text(file);
                        OUTSIDE_PATHS.stream().filter(text::contains)
                                .forEach(path -> offending.add(Repository.ROOT.relativize(file) + " names " + path));
                    });
        }
        assertThat(offending).as("files that point outside the repository").isEmpty();
    }

    private static boolean isBuildOutput(Path relative) {
        for (Path name : relative) {
            if (NOT_SOURCE.contains(name.toString())) {
                return true;
            }
        }
        return false;
    }

    /** A file's text; empty for a binary file (one holding a NUL byte). */
    private static String text(Path file) {
        try {
            byte[] bytes = Files.readAllBytes(file);
            for (byte b : bytes) {
                if (b == 0) {
                    return "";
                }
            }
            return new String(bytes, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static Element pom(String relative) {
        return parse(Repository.read(relative));
    }

    private static Element parse(String xml) {
        try (InputStream in = new java.io.ByteArrayInputStream(xml.getBytes(StandardCharsets.UTF_8))) {
            return DocumentBuilderFactory.newInstance().newDocumentBuilder().parse(in).getDocumentElement();
        } catch (Exception e) {
            throw new AssertionError("not XML: " + xml, e);
        }
    }

    /** The element's own children named {@code name}. */
    private static List<Element> children(Element element, String name) {
        List<Element> found = new ArrayList<>();
        for (Node node = element.getFirstChild(); node != null; node = node.getNextSibling()) {
            if (node instanceof Element e && e.getTagName().equals(name)) {
                found.add(e);
            }
        }
        return found;
    }

    /** The text of the element's own child {@code name} (not a descendant's: a pom's parent has a version too). */
    private static String child(Element element, String name) {
        for (Node node = element.getFirstChild(); node != null; node = node.getNextSibling()) {
            if (node instanceof Element e && e.getTagName().equals(name)) {
                return e.getTextContent().strip();
            }
        }
        throw new AssertionError("<" + element.getTagName() + "> has no <" + name + ">");
    }
}
