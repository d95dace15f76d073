using System.Runtime.CompilerServices;

[assembly: InternalsVisibleTo("Man.Vision.Detection.Tests")]
