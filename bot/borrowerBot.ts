import type { Activity, TurnContext } from 'botbuilder';
import type { InboundActivity } from './activitySchema';
import type { TurnPipeline } from './turnPipeline';

/** The Bot Framework side of a turn: hand the activity to the pipeline, send what it returns. */
export function createBorrowerBot(pipeline: TurnPipeline) {
  return async (context: TurnContext): Promise<void> => {
    const replies = await pipeline.handle(context.activity as unknown as InboundActivity);
    if (replies.length > 0) await context.sendActivities(replies as Partial<Activity>[]);
  };
}
