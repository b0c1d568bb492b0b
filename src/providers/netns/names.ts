/** Every namespace a lab creates is named lab.<lab>.<node>; dots never occur in lab or node names. */
export function namespacePrefix(lab: string): string {
  return `lab.${lab}.`;
}

export function namespaceOf(lab: string, node: string): string {
  return `${namespacePrefix(lab)}${node}`;
}

/** Host side of a container's veth, inside the docker host's namespace (15 characters at most). */
export function containerPort(container: string): string {
  return `vc-${container}`.slice(0, 15);
}
