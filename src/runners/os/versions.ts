/** Lines of `name<TAB>version` (dpkg-query and rpm with the formats the os managers ask for). */
export function tabVersions(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split(/\r?\n/)) {
    const [name, version] = line.split("\t");
    if (name && version) out.set(name.trim(), version.trim());
  }
  return out;
}

/** `rpm -qa` with this format prints what tabVersions reads (epoch left out, as dnf prints it when 0). */
export const RPM_QUERY = ["rpm", "-qa", "--queryformat", "%{NAME}\\t%{VERSION}-%{RELEASE}\\n"];
