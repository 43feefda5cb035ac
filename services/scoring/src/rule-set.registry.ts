import { Injectable } from '@nestjs/common';
import { NotFoundError } from '@leadmesh/platform';
import type { RuleSet } from './domain/rule-set.js';
import { defaultRulesDir, loadRuleSetFiles } from './rules/rule-set-files.js';

/** The rule sets shipped in the repo (rules/*.yaml), validated at start; the newest is active. */
@Injectable()
export class RuleSetRegistry {
  private readonly ruleSets: RuleSet[] = loadRuleSetFiles(process.env.SCORING_RULES_DIR ?? defaultRulesDir());
  private activeVersion = process.env.SCORING_ACTIVE_RULE_SET ?? this.ruleSets.at(-1)!.version;

  active(): RuleSet {
    return this.get(this.activeVersion);
  }

  get(version: string): RuleSet {
    const ruleSet = this.ruleSets.find((r) => r.version === version);
    if (!ruleSet) throw new NotFoundError(`rule set ${version}`);
    return ruleSet;
  }

  versions(): string[] {
    return this.ruleSets.map((r) => r.version);
  }
}
