import { Migration } from '@mikro-orm/migrations';
import { storedTokenClaims } from '../token-claims.js';

/**
 * Decision tokens are no longer stored: each approval keeps the claims that re-create its token
 * (`token_issued_at`, `token_kid`), taken from the stored token, and the token column goes.
 * Signing keys are sealed by the server at start (it holds the key-encryption key; SQL does not).
 */
export class Migration20261201SecretsAtRest extends Migration {
  override async up(): Promise<void> {
    await this.execute('alter table "approval" add column "token_issued_at" timestamptz null, add column "token_kid" varchar(64) null');
    const rows = await this.execute('select "id", "decision_token" from "approval" where "decision_token" is not null');
    for (const row of rows) {
      const claims = storedTokenClaims(row['decision_token']);
      if (claims) {
        await this.execute('update "approval" set "token_issued_at" = to_timestamp(?), "token_kid" = ? where "id" = ?', [
          claims.issuedAtSeconds,
          claims.kid,
          row['id'],
        ]);
      }
    }
    await this.execute('alter table "approval" drop column "decision_token"');
  }
}
