import { catalogueTableProperties } from '../shared/catalogue/table';
import type { CfnFragment, CfnValue } from './cfn';
import { getAtt, ref, sub } from './cfn';
import { SHARED } from './naming';

/**
 * The image catalogue table: keys and indexes from shared/catalogue/table.ts (what the local stack
 * creates too), on-demand, encrypted, with point-in-time recovery, and alarms on throttling.
 */
export function catalogueTableResources(): Pick<CfnFragment, 'Resources' | 'Outputs'> {
  const table = ref(SHARED.catalogueTable);
  const throttleAlarm = (metric: string, what: string) => ({
    Type: 'AWS::CloudWatch::Alarm',
    Properties: {
      AlarmDescription: `The catalogue table throttled ${what} requests`,
      Namespace: 'AWS/DynamoDB',
      MetricName: metric,
      Dimensions: [{ Name: 'TableName', Value: table }],
      Statistic: 'Sum',
      Period: 60,
      EvaluationPeriods: 1,
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
      TreatMissingData: 'notBreaching',
      AlarmActions: [ref(SHARED.alarmTopic)],
      OKActions: [ref(SHARED.alarmTopic)],
    },
  });
  return {
    Resources: {
      [SHARED.catalogueTable]: {
        Type: 'AWS::DynamoDB::Table',
        Properties: {
          TableName: sub(`\${AWS::StackName}-images`),
          ...(catalogueTableProperties() as unknown as Record<string, CfnValue>),
          PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
          SSESpecification: { SSEEnabled: true },
        },
      },
      CatalogueReadThrottlesAlarm: throttleAlarm('ReadThrottleEvents', 'read'),
      CatalogueWriteThrottlesAlarm: throttleAlarm('WriteThrottleEvents', 'write'),
    },
    Outputs: { ImagesTableName: { Value: table }, ImagesTableArn: { Value: getAtt(SHARED.catalogueTable, 'Arn') } },
  };
}
