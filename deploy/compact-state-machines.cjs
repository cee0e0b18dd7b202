// The state machine definitions in the template, and the template itself, without their indentation (a local plugin: serverless.yml
// `plugins`). serverless-step-functions writes each definition as JSON indented by two spaces, and the
// indentation is a quarter of the template at 100 databases: CloudFormation refuses a template over
// 1 MB (cfn-lint E1002). What Step Functions runs is unchanged; only whitespace between JSON tokens goes.
'use strict';

/** `text` (a definition, possibly with Fn::Sub placeholders inside its strings) as compact JSON; unchanged when it is not JSON. */
function compactJson(text) {
  try {
    return JSON.stringify(JSON.parse(text));
  } catch {
    // A placeholder outside a string (e.g. a number from ${...}): leave the definition as written.
    return text;
  }
}

class CompactStateMachines {
  constructor(serverless, options) {
    this.serverless = serverless;
    this.options = options ?? {};
    this.hooks = {
      'after:aws:package:finalize:mergeCustomProviderResources': () => this.compact(),
      // The whole template written without indentation too (the framework's own --minify-template, made
      // the default here): the indentation of the rest of the template is another tenth of it at 100
      // databases, and the file written is the one `serverless deploy` uploads to CloudFormation.
      'before:aws:package:finalize:saveServiceState': () => this.minifyTemplate(),
    };
  }

  minifyTemplate() {
    if (this.options['minify-template'] !== undefined) return; // the operator's --minify-template wins
    for (const plugin of this.serverless.pluginManager.plugins) {
      // The framework's packaging plugin, which writes the template (saveCompiledTemplate).
      if (typeof plugin.saveCompiledTemplate === 'function' && plugin.options) plugin.options['minify-template'] = true;
    }
  }

  compact() {
    const resources = this.serverless.service.provider.compiledCloudFormationTemplate.Resources;
    for (const resource of Object.values(resources)) {
      if (resource.Type !== 'AWS::StepFunctions::StateMachine') continue;
      const definition = resource.Properties?.DefinitionString;
      if (typeof definition === 'string') resource.Properties.DefinitionString = compactJson(definition);
      else if (definition && Array.isArray(definition['Fn::Sub'])) definition['Fn::Sub'][0] = compactJson(definition['Fn::Sub'][0]);
      else if (definition && typeof definition['Fn::Sub'] === 'string') definition['Fn::Sub'] = compactJson(definition['Fn::Sub']);
    }
  }
}

module.exports = CompactStateMachines;
