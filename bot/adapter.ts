import {
  CallerIdConstants,
  CloudAdapter,
  ConfigurationBotFrameworkAuthentication,
  ConfigurationServiceClientCredentialFactory,
  type Activity,
  type InvokeResponse,
  type TurnContext,
} from 'botbuilder';
// botbuilder's own copy (the same pinned version): the types its adapter and authentication use.
import {
  AuthenticationConstants,
  ConnectorFactory,
  type AuthenticateRequestResult,
  type ClaimsIdentity,
  type ConnectorClient,
  type UserTokenClient,
} from 'botframework-connector';
import { LRUCache } from 'lru-cache';
import type { Config } from './config';
import type { Logger } from './logger';

// Bot Framework's own endpoints, filled in when a deployment overrides only some of them (any
// override switches botbuilder to taking every endpoint from the configuration).
const BOT_FRAMEWORK_DEFAULTS = {
  ToChannelFromBotLoginUrl: 'https://login.microsoftonline.com/botframework.com',
  ToChannelFromBotOAuthScope: 'https://api.botframework.com',
  ToBotFromChannelTokenIssuer: 'https://api.botframework.com',
  ToBotFromChannelOpenIdMetadataUrl: 'https://login.botframework.com/v1/.well-known/openidconfiguration',
  ToBotFromEmulatorOpenIdMetadataUrl: 'https://login.microsoftonline.com/common/v2.0/.well-known/openid-configuration',
  OAuthUrl: 'https://api.botframework.com',
  CallerId: CallerIdConstants.PublicAzureChannel,
  ValidateAuthority: true,
};

/** Service URLs come from activities, which anyone can send while authentication is off: bounded. */
const MAX_CACHED_CLIENTS = 100;

/** The bot's app id, as botbuilder reads it from an inbound request's claims. */
const appIdOf = (claims: ClaimsIdentity): string =>
  claims.getClaimValue(AuthenticationConstants.AudienceClaim) ?? claims.getClaimValue(AuthenticationConstants.AppIdClaim) ?? '';

/** The promise a key maps to, made once; a rejected one is forgotten so that the next call tries again. */
function memo<T extends {}>(cache: LRUCache<string, Promise<T>>, key: string, make: () => Promise<T>): Promise<T> {
  let made = cache.get(key);
  if (!made) {
    made = make();
    cache.set(key, made);
    made.catch(() => cache.delete(key));
  }
  return made;
}

/** botbuilder's factory for one app id, giving the kept client where there is one. */
class KeptConnectorFactory extends ConnectorFactory {
  constructor(
    private readonly made: ConnectorFactory,
    private readonly appId: string,
    private readonly kept: LRUCache<string, Promise<ConnectorClient>>,
  ) {
    super();
  }

  create(serviceUrl: string, audience?: string): Promise<ConnectorClient> {
    return memo(this.kept, JSON.stringify([this.appId, serviceUrl, audience ?? null]), () => this.made.create(serviceUrl, audience));
  }
}

/**
 * Bot Framework authentication that keeps the clients botbuilder builds for outbound calls.
 * botbuilder makes a new ConnectorClient and UserTokenClient, each with its own HTTP pipeline,
 * for every inbound activity (a third of a millisecond of CPU), even for an expectReplies turn,
 * which never calls out. They hold nothing of the turn: the same app id, service URL and
 * audience get the same client, and proactive messages reuse its connections.
 */
class BotAuthentication extends ConfigurationBotFrameworkAuthentication {
  private readonly connectors = new LRUCache<string, Promise<ConnectorClient>>({ max: MAX_CACHED_CLIENTS });
  private readonly tokenClients = new LRUCache<string, Promise<UserTokenClient>>({ max: MAX_CACHED_CLIENTS });

  override async authenticateRequest(activity: Activity, authHeader: string): Promise<AuthenticateRequestResult> {
    const result = await super.authenticateRequest(activity, authHeader);
    return { ...result, connectorFactory: this.createConnectorFactory(result.claimsIdentity) };
  }

  override createConnectorFactory(claimsIdentity: ClaimsIdentity): ConnectorFactory {
    return new KeptConnectorFactory(super.createConnectorFactory(claimsIdentity), appIdOf(claimsIdentity), this.connectors);
  }

  override createUserTokenClient(claimsIdentity: ClaimsIdentity): Promise<UserTokenClient> {
    return memo(this.tokenClients, appIdOf(claimsIdentity), () => super.createUserTokenClient(claimsIdentity));
  }
}

export type { BotAuthentication };

/**
 * Bot Framework authentication: anonymous when no app id is configured (local use), JWT
 * validation of every inbound request once MicrosoftAppId is set, against the OpenID metadata
 * and issuer configured (Azure Bot Service's by default).
 */
export function createBotAuthentication(config: Config): BotAuthentication {
  const { appId, password, type, tenantId, openIdMetadataUrl, tokenIssuer } = config.microsoftApp;
  const credentials = new ConfigurationServiceClientCredentialFactory({
    MicrosoftAppId: appId ?? '',
    MicrosoftAppPassword: password ?? '',
    MicrosoftAppType: type ?? (appId ? 'MultiTenant' : ''),
    MicrosoftAppTenantId: tenantId ?? '',
  });
  const endpoints =
    openIdMetadataUrl || tokenIssuer
      ? {
          ...BOT_FRAMEWORK_DEFAULTS,
          ...(openIdMetadataUrl ? { ToBotFromChannelOpenIdMetadataUrl: openIdMetadataUrl } : {}),
          ...(tokenIssuer ? { ToBotFromChannelTokenIssuer: tokenIssuer } : {}),
        }
      : {};
  return new BotAuthentication(endpoints, credentials);
}

/**
 * The CloudAdapter, taking activities that `/api/messages` has already checked with its own
 * schema and authenticated. CloudAdapter.process would check the request again with zod schemas
 * it builds on every call (a fifth of a millisecond) and authenticate the token a second time.
 */
export class BotAdapter extends CloudAdapter {
  /** Runs the turn; what to answer (an expectReplies turn's replies), or undefined for 200 with no body. */
  turn(auth: AuthenticateRequestResult, activity: Activity, logic: (context: TurnContext) => Promise<void>): Promise<InvokeResponse | undefined> {
    return this.processActivity(auth, activity, logic);
  }
}

export function createAdapter(botAuth: BotAuthentication, logger: Logger): BotAdapter {
  const adapter = new BotAdapter(botAuth);
  adapter.onTurnError = async (context: TurnContext, error: Error) => {
    logger.error({ err: error, conversationId: context.activity.conversation?.id }, 'turn failed');
    const zh = (context.activity.locale ?? 'zh').toLowerCase().startsWith('zh');
    await context.sendActivity(zh ? '抱歉，系统暂时出了点问题，请稍后再发一次。' : 'Sorry, something went wrong on our side. Please send your message again in a moment.');
  };
  return adapter;
}
