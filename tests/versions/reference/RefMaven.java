// Reference for Maven versions: org.apache.maven.artifact.versioning.ComparableVersion from maven-artifact.
// Protocol: see ref_apt.py.
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import org.apache.maven.artifact.versioning.ComparableVersion;

public class RefMaven {
    private static String decode(String field) {
        byte[] raw = new byte[(field.length() - 1) / 2];
        for (int i = 0; i < raw.length; i++) {
            raw[i] = (byte) Integer.parseInt(field.substring(1 + 2 * i, 3 + 2 * i), 16);
        }
        return new String(raw, StandardCharsets.UTF_8);
    }

    public static void main(String[] args) throws Exception {
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.US_ASCII));
        StringBuilder out = new StringBuilder();
        String line;
        while ((line = in.readLine()) != null) {
            if (line.isEmpty()) {
                continue;
            }
            String[] fields = line.split(" ");
            int r = new ComparableVersion(decode(fields[0])).compareTo(new ComparableVersion(decode(fields[1])));
            out.append(Integer.signum(r)).append('\n');
        }
        System.out.print(out);
    }
}
