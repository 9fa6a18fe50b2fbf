/** CloudFormation intrinsics in their long (JSON) form, as the framework merges them into the template. */

export type Ref = { Ref: string };
export type GetAtt = { 'Fn::GetAtt': [string, string] };
export type Sub = { 'Fn::Sub': string };
type Intrinsic = Ref | GetAtt | Sub;

export type CfnValue = string | number | boolean | Intrinsic | CfnValue[] | { [key: string]: CfnValue };

export interface CfnResource {
  Type: string;
  Properties: { [key: string]: CfnValue };
}

export interface CfnFragment {
  Resources: Record<string, CfnResource>;
  Outputs: Record<string, { Value: CfnValue }>;
  /** The framework's `resources.extensions`: properties added to resources it generates itself. */
  extensions?: Record<string, unknown>;
}

export const ref = (logicalId: string): Ref => ({ Ref: logicalId });
export const getAtt = (logicalId: string, attribute: string): GetAtt => ({ 'Fn::GetAtt': [logicalId, attribute] });
export const sub = (template: string): Sub => ({ 'Fn::Sub': template });
