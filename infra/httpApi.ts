import { type FunctionDefinition, httpFunctions } from '../functions/registry';
import { type CfnResource, type CfnValue, ref, sub } from './cfn';
import type { InfraConfig, StackContext } from './context';
import { JWT_AUTHORIZER, SHARED } from './naming';

/**
 * The HTTP API in front of the registry's http-api functions: serverless.yml's
 * `provider.httpApi` (CORS, the JWT authorizer) and what the stack adds to it (the default stage's
 * throttling, and a Cognito user pool when the stage names no issuer of its own). Never anonymous:
 * every route but the public ones goes through the authorizer.
 */

/** Without `jwtIssuerUrl` the stack's own user pool issues the tokens. */
const ownUserPool = (context: StackContext) => context.jwtIssuerUrl === '';

export function buildHttpApi(context: StackContext): Record<string, CfnValue> {
  const own = ownUserPool(context);
  return {
    ...(context.corsOrigins.length > 0 && {
      cors: {
        allowedOrigins: context.corsOrigins,
        allowedMethods: ['GET', 'POST', 'DELETE', 'OPTIONS'],
        allowedHeaders: ['Content-Type', 'Authorization'],
        maxAge: 600,
      },
    }),
    metrics: true,
    authorizers: {
      [JWT_AUTHORIZER]: {
        type: 'jwt',
        identitySource: '$request.header.Authorization',
        issuerUrl: own ? sub(`https://cognito-idp.\${AWS::Region}.amazonaws.com/\${${SHARED.userPool}}`) : context.jwtIssuerUrl,
        audience: own ? [ref(SHARED.userPoolClient)] : context.jwtAudience.split(',').map((audience) => audience.trim()),
      },
    },
  };
}

/** The user pool, its app client and the operators' group: sign-up is by an administrator only. */
function userPoolResources(config: InfraConfig): Record<string, CfnResource> {
  return {
    [SHARED.userPool]: {
      Type: 'AWS::Cognito::UserPool',
      Properties: {
        UserPoolName: sub(`\${AWS::StackName}-users`),
        AdminCreateUserConfig: { AllowAdminCreateUserOnly: true },
        UsernameAttributes: ['email'],
        AutoVerifiedAttributes: ['email'],
        Policies: {
          PasswordPolicy: {
            MinimumLength: 12,
            RequireLowercase: true,
            RequireUppercase: true,
            RequireNumbers: true,
            RequireSymbols: false,
          },
        },
        MfaConfiguration: 'OPTIONAL',
        EnabledMfas: ['SOFTWARE_TOKEN_MFA'],
      },
    },
    [SHARED.userPoolClient]: {
      Type: 'AWS::Cognito::UserPoolClient',
      Properties: {
        UserPoolId: ref(SHARED.userPool),
        ClientName: sub(`\${AWS::StackName}-api`),
        GenerateSecret: false,
        ExplicitAuthFlows: ['ALLOW_USER_SRP_AUTH', 'ALLOW_USER_PASSWORD_AUTH', 'ALLOW_REFRESH_TOKEN_AUTH'],
        PreventUserExistenceErrors: 'ENABLED',
        AccessTokenValidity: 60,
        IdTokenValidity: 60,
        TokenValidityUnits: { AccessToken: 'minutes', IdToken: 'minutes' },
      },
    },
    [SHARED.userPoolAdminGroup]: {
      Type: 'AWS::Cognito::UserPoolGroup',
      Properties: {
        UserPoolId: ref(SHARED.userPool),
        GroupName: config.api.admin.group,
        Description: 'Operators: the API routes for the DLQs and the audit',
      },
    },
  };
}

/** What the stack adds for its HTTP API: nothing when the registry has no http-api function. */
export function httpApiResources(
  fns: readonly FunctionDefinition[],
  config: InfraConfig,
  context: StackContext,
): { Resources: Record<string, CfnResource>; Outputs: Record<string, { Value: CfnValue }>; extensions: Record<string, unknown> } {
  if (httpFunctions(fns).length === 0) return { Resources: {}, Outputs: {}, extensions: {} };
  const own = ownUserPool(context);
  return {
    Resources: own ? userPoolResources(config) : {},
    Outputs: own ? { UserPoolId: { Value: ref(SHARED.userPool) }, UserPoolClientId: { Value: ref(SHARED.userPoolClient) } } : {},
    // The framework's default stage: its route settings are where API Gateway throttles.
    extensions: {
      HttpApiStage: {
        Properties: {
          DefaultRouteSettings: {
            DetailedMetricsEnabled: true,
            ThrottlingRateLimit: config.api.throttling.rateLimit,
            ThrottlingBurstLimit: config.api.throttling.burstLimit,
          },
        },
      },
    },
  };
}

/**
 * The uploads and thumbnails buckets' CORS: the allowed origins may POST a presigned upload and GET
 * a presigned thumbnail; without origins, no CORS configuration at all.
 */
export function bucketCors(context: StackContext): Record<'uploads' | 'thumbnails', CfnValue> {
  const rules = (method: string) =>
    context.corsOrigins.length === 0
      ? ref('AWS::NoValue')
      : { CorsRules: [{ AllowedMethods: [method], AllowedOrigins: context.corsOrigins, AllowedHeaders: ['*'], MaxAge: 600 }] };
  return { uploads: rules('POST'), thumbnails: rules('GET') };
}
