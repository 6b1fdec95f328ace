import type { InstanceActors, DependencyStatus } from '../dependencies/mod.js';
import { actorStatus, type ActorStatus, type DependencyOwner } from './opsReader.js';

/** The dependencies as a process that runs processing knows them itself. */
export interface LocalDependencies {
  instance: string;
  /** Every dependency, those run elsewhere as `activity: 'elsewhere'`. */
  statuses: DependencyStatus[];
  owner(name: string): DependencyOwner | undefined;
}

/** The answer that reports `name` best: this instance's, else its owner's, else the first. */
function bestAnswer(name: string, ownInstance: string, answers: readonly InstanceActors[]): InstanceActors | undefined {
  const holding = answers.filter((a) => a.dependencies.some((d) => d.name === name));
  return holding.find((a) => a.instance === ownInstance) ?? holding.find((a) => name in a.owned) ?? holding[0];
}

function fromAnswer(name: string, a: InstanceActors): ActorStatus {
  const since = a.owned[name];
  return actorStatus(a.dependencies.find((d) => d.name === name)!, a.instance, since === undefined ? undefined : { instance: a.instance, since });
}

/**
 * `GET /actors` (pure): one entry per dependency, as the instance running
 * it reports it. A process that runs processing lists every dependency it
 * knows, each one run elsewhere replaced by its owner's answer (its own
 * record when the owner did not answer); any other process lists what the
 * instances answered, preferring its own instance's actor for a dependency
 * every instance runs (the browser by default).
 */
export function buildActorsView(ownInstance: string, answers: readonly InstanceActors[], local?: LocalDependencies): ActorStatus[] {
  if (local) {
    return local.statuses.map((d) => {
      if (d.activity !== 'elsewhere') return actorStatus(d, local.instance, local.owner(d.name));
      const owner = local.owner(d.name);
      const answer = owner && answers.find((a) => a.instance === owner.instance && d.name in a.owned);
      return answer ? fromAnswer(d.name, answer) : actorStatus(d, local.instance, owner);
    });
  }
  const names: string[] = [];
  const ordered = [...answers].sort((a, b) => Number(b.instance === ownInstance) - Number(a.instance === ownInstance));
  for (const a of ordered) for (const d of a.dependencies) if (!names.includes(d.name)) names.push(d.name);
  return names.map((name) => fromAnswer(name, bestAnswer(name, ownInstance, answers)!));
}
